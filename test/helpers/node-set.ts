// Node-set files as tests write them: every entry carries its operator and a proof of possession
// bound to that operator, the chain and the registry named in the file (PROTOCOL.md §9, §10).
import { proofOfPossession, type SecretKey } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
export const TEST_OPERATOR = `0x${"0a".repeat(20)}`;
export const TEST_REGISTRY = `0x${"0b".repeat(20)}`;
export const TEST_CHAIN_ID = "31337";

/** The `cellar keygen` flags that make it print a proof of possession bound as the files expect. */
export const KEYGEN_BINDING = ["--operator", TEST_OPERATOR, "--chain-id", TEST_CHAIN_ID, "--registry", TEST_REGISTRY];

export interface KeyOut {
  readonly publicKey: string;
  readonly proofOfPossession: string;
}

/** The JSON of a node-set file for keys made with KEYGEN_BINDING. */
export function nodeSetJson(entries: readonly (KeyOut & { url: string; index?: number })[]): string {
  return JSON.stringify({
    chainId: TEST_CHAIN_ID,
    registry: TEST_REGISTRY,
    nodes: entries.map((e) => ({
      publicKey: e.publicKey,
      url: e.url,
      operator: TEST_OPERATOR,
      proofOfPossession: e.proofOfPossession,
      ...(e.index === undefined ? {} : { index: e.index }),
    })),
  });
}

/** A node-set file entry for a key held in the test, its proof bound as the files expect. */
export function boundEntry(secretKey: SecretKey, url: string): KeyOut & { url: string } {
  const binding = {
    operator: fromHex(TEST_OPERATOR, 20),
    chainId: BigInt(TEST_CHAIN_ID),
    registry: fromHex(TEST_REGISTRY, 20),
  };
  return {
    publicKey: toHex(secretKey.toPublicKey().toBytes()),
    proofOfPossession: toHex(proofOfPossession(secretKey, binding)),
    url,
  };
}
