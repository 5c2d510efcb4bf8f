import { toHex } from "@cellar/utils";
import { type Address, checkAddress, type L1Connection, publicClient, rpc } from "../chain.js";
import { cellarInboxAbi } from "../generated/contracts.js";

export type IsRecordedParameters = L1Connection & { inbox: Address; root: Uint8Array };
export type IsRecordedReturnType = boolean;

/** Whether the inbox has recorded `root`. */
export async function isRecorded(options: IsRecordedParameters): Promise<IsRecordedReturnType> {
  const inbox = checkAddress(options.inbox, "inbox");
  return rpc(
    () =>
      publicClient(options.rpcUrl).readContract({
        address: inbox,
        abi: cellarInboxAbi,
        functionName: "isRecorded",
        args: [toHex(options.root)],
      }),
    options.rpcUrl,
    "reading the inbox",
  );
}
