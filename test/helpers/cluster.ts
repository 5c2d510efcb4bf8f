import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kzg } from "@cellar/kzg";
import { StorageNode, type StorageNodeOptions } from "@cellar/node";
import { type AttestationDomain, buildNodeSet, generateSecretKey, type NodeRecord } from "@cellar/protocol";

export const TEST_DOMAIN = { chainId: 31337n, inbox: Uint8Array.from({ length: 20 }, (_, i) => i + 1) };

/** The disperser key test clusters authorise: pass it as `key` to a Disperser that should be let in. */
export const TEST_DISPERSER_KEY = generateSecretKey(new Uint8Array(32).fill(42));
export const TEST_DISPERSER = TEST_DISPERSER_KEY.toPublicKey().toBytes();

export interface Cluster {
  readonly nodes: StorageNode[];
  readonly set: NodeRecord[];
  stop(): Promise<void>;
}

/** N storage nodes in this process, each with its own key and LMDB directory, on loopback port 0. */
export async function startCluster(
  n: number,
  kzg: Pick<Kzg, "verifyCellProofBatchAsync">,
  domain: AttestationDomain = TEST_DOMAIN,
  options: Partial<StorageNodeOptions> = {},
): Promise<Cluster> {
  const dirs = Array.from({ length: n }, () => mkdtempSync(join(tmpdir(), "cellar-cluster-")));
  const nodes = dirs.map(
    (dataDir) =>
      new StorageNode(
        { dataDir, domain, scrubIntervalMs: 3_600_000, dispersers: [TEST_DISPERSER], ...options },
        { kzg },
      ),
  );
  await Promise.all(nodes.map((node) => node.start()));
  const set = buildNodeSet(nodes.map((node) => ({ publicKey: node.identity.publicKey, url: node.url })));
  for (const node of nodes) node.setNodes(set);
  return {
    nodes,
    set,
    async stop() {
      await Promise.allSettled(nodes.map((node) => node.stop()));
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
