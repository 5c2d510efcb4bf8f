import { fromHex } from "@cellar/utils";
import { type Address, checkAddress, type L1Connection, publicClient, rpc } from "../chain.js";
import { cellarRegistryAbi } from "../generated/contracts.js";

export type ReadDispersersParameters = L1Connection & {
  registry: Address;
  /** Left dispersers too (default: only the active ones). */
  all?: boolean;
};

/** A registered disperser (PROTOCOL.md §19): its BLS key (48 bytes compressed), URL and operator. */
export interface DisperserRecord {
  readonly index: number;
  readonly publicKey: Uint8Array;
  readonly url: string;
  readonly operator: Address;
  readonly active: boolean;
  readonly stake: bigint;
}

export type ReadDispersersReturnType = DisperserRecord[];

/** The registry's dispersers; only the active ones unless `all`. */
export async function readDispersers(options: ReadDispersersParameters): Promise<ReadDispersersReturnType> {
  const registry = checkAddress(options.registry, "registry");
  const list = await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({
        address: registry,
        abi: cellarRegistryAbi,
        functionName: "dispersers",
      }),
    options.rpcUrl,
    "reading the dispersers",
  );
  return list
    .map((d) => ({
      index: Number(d.index),
      publicKey: fromHex(d.publicKey, 48, "publicKey"),
      url: d.url,
      operator: d.operator,
      active: d.active,
      stake: d.stake,
    }))
    .filter((d) => options.all === true || d.active);
}
