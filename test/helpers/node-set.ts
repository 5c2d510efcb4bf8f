// Node-set files as tests write them: every entry carries its operator and a proof of possession
// bound to that operator, the chain and the registry named in the file (PROTOCOL.md §9, §10).
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
