import { randomBytes } from "node:crypto";
import { link, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateSecretKey, nodeIdFromPublicKey, parseSecretKey, type SecretKey } from "@cellar/protocol";
import { fromHex, isCellarError, toHex } from "@cellar/utils";
import { NodeError } from "./errors.js";

/** A node's BLS identity. */
export interface NodeIdentity {
  readonly secretKey: SecretKey;
  readonly publicKey: Uint8Array;
  readonly nodeId: Uint8Array;
}

export const KEY_FILE = "node.key";

export function identityFromSecretKey(secretKey: SecretKey): NodeIdentity {
  const publicKey = secretKey.toPublicKey().toBytes();
  return {
    secretKey,
    publicKey,
    nodeId: nodeIdFromPublicKey(publicKey),
  };
}

/**
 * Writes a new secret key (0x-hex, one line) to `path` with mode 0600. The file is written beside
 * the target and hard-linked into place, which fails if a key already exists there: a key is
 * never overwritten.
 */
export async function createKeyFile(path: string): Promise<NodeIdentity> {
  const secretKey = generateSecretKey(randomBytes(32));
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await writeFile(temp, `${toHex(secretKey.toBytes())}\n`, { mode: 0o600, flag: "wx" });
    await link(temp, path);
  } catch (err) {
    throw new NodeError(
      "CELLAR_ERR_NODE_KEY_FILE",
      `cannot create key file ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  } finally {
    await rm(temp, { force: true });
  }
  return identityFromSecretKey(secretKey);
}

/** Reads a key file; refuses one that others can read, as ssh does. */
export async function readKeyFile(path: string): Promise<NodeIdentity> {
  let text: string;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new NodeError(
        "CELLAR_ERR_NODE_KEY_FILE",
        `key file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`,
        { path },
      );
    }
    text = await readFile(path, "utf8");
  } catch (err) {
    if (isCellarError(err)) throw err;
    throw new NodeError(
      "CELLAR_ERR_NODE_KEY_FILE",
      `cannot read key file ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  try {
    return identityFromSecretKey(parseSecretKey(fromHex(text.trim(), 32, "secret key")));
  } catch (err) {
    throw new NodeError(
      "CELLAR_ERR_NODE_KEY_FILE",
      `key file ${path} does not hold a 32-byte BLS secret key`,
      { path },
      { cause: err },
    );
  }
}

/** The node's identity: from `keyFile` when given, else `DIR/node.key`, created on first start. */
export async function loadIdentity(dataDir: string, keyFile?: string): Promise<NodeIdentity> {
  if (keyFile !== undefined) return readKeyFile(keyFile);
  const path = join(dataDir, KEY_FILE);
  try {
    await stat(path);
  } catch {
    try {
      return await createKeyFile(path);
    } catch (err) {
      // Another process created it between our look and our link: use theirs.
      if ((err as NodeError).cause && ((err as NodeError).cause as NodeJS.ErrnoException).code === "EEXIST")
        return readKeyFile(path);
      throw err;
    }
  }
  return readKeyFile(path);
}
