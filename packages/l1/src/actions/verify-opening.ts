import { toHex } from "@cellar/utils";
import { type Address, checkAddress, type L1Connection, publicClient, rpc } from "../chain.js";
import { cellarInboxAbi } from "../generated/contracts.js";

/** A KZG opening of one blob of a recorded batch, as `verifyOpening` takes it. */
export interface Opening {
  readonly root: Uint8Array;
  readonly blobIndex: number;
  readonly merkleProof: readonly Uint8Array[];
  readonly commitment: Uint8Array;
  readonly z: Uint8Array;
  readonly y: Uint8Array;
  readonly proof: Uint8Array;
}

export type VerifyOpeningOnChainParameters = L1Connection & { inbox: Address } & Opening;
export type VerifyOpeningOnChainReturnType = true;

/** Checks an opening on chain (an eth_call of `verifyOpening`); throws CELLAR_ERR_L1_REVERTED with the reason. */
export async function verifyOpeningOnChain(
  options: VerifyOpeningOnChainParameters,
): Promise<VerifyOpeningOnChainReturnType> {
  await rpc(
    () =>
      publicClient(options.rpcUrl).readContract({
        address: checkAddress(options.inbox, "inbox"),
        abi: cellarInboxAbi,
        functionName: "verifyOpening",
        args: [
          toHex(options.root),
          BigInt(options.blobIndex),
          options.merkleProof.map((p) => toHex(p)),
          toHex(options.commitment),
          toHex(options.z),
          toHex(options.y),
          toHex(options.proof),
        ],
      }),
    options.rpcUrl,
    "verifying the opening",
  );
  return true;
}
