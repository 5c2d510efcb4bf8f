import { type Certificate, type NodeRecord, signersOf } from "@cellar/protocol";
import { toHex } from "@cellar/utils";
import { bitmapToUint } from "../bitmap.js";
import { type Address, checkAddress, type L1Signer, publicClient, rpc } from "../chain.js";
import { L1Error } from "../errors.js";
import { cellarInboxAbi, cellarRegistryAbi } from "../generated/contracts.js";
import { uncompressedPublicKey, uncompressedSignature } from "../points.js";
import { type Mined, transact } from "../transaction.js";
import { readNodeSet } from "./read-node-set.js";

/**
 * What the inbox records: a batch root with what it commits to (blobs root, blob count, payload
 * size: the root is `keccak256(blobsRoot || uint256 blobCount || uint256 size)`, §4), and the certificate.
 */
export interface Settlement {
  readonly root: Uint8Array;
  readonly blobsRoot: Uint8Array;
  readonly blobCount: number;
  readonly size: number;
  readonly certificate: Certificate;
}

export type SettleBatchParameters = L1Signer & { inbox: Address } & Settlement;
export type SettleBatchReturnType = Mined;

/**
 * Posts a certified batch to the inbox, which checks on chain that the root commits to the blob
 * count and size, the certificate's age, the snapshot's stake quorum and the aggregate signature.
 * Reads the snapshot's checkpoint and its non-signers' keys (which the inbox checks against the
 * key hashes it stores) from the registry.
 */
export async function settleBatch(options: SettleBatchParameters): Promise<SettleBatchReturnType> {
  const inbox = checkAddress(options.inbox, "inbox");
  const { certificate } = options;
  if (certificate.root.length !== 32 || toHex(certificate.root) !== toHex(options.root))
    throw new L1Error("CELLAR_ERR_L1_INVALID_INPUT", "the certificate is for another root");
  const client = publicClient(options.rpcUrl);
  const registry = await rpc(
    () => client.readContract({ address: inbox, abi: cellarInboxAbi, functionName: "registry" }),
    options.rpcUrl,
    "reading the inbox",
  );
  const signers = bitmapToUint(certificate.signerBitmap);
  const [hint] = await rpc(
    () =>
      client.readContract({
        address: registry,
        abi: cellarRegistryAbi,
        functionName: "checkpointAt",
        args: [certificate.reference],
      }),
    options.rpcUrl,
    "reading the registry checkpoint",
  );
  // An empty snapshot has no non-signers (and the inbox refuses the certificate for want of stake).
  const snapshot = await readNodeSet({ rpcUrl: options.rpcUrl, registry, reference: certificate.reference }).catch(
    (err: unknown): NodeRecord[] => {
      if (err instanceof L1Error && err.code === "CELLAR_ERR_L1_INVALID_INPUT") return [];
      throw err;
    },
  );
  const signing = new Set(signersOf(certificate.signerBitmap));
  const nonSigners = snapshot.filter((n) => !signing.has(n.index));
  const args = [
    toHex(options.root),
    toHex(options.blobsRoot),
    BigInt(options.blobCount),
    BigInt(options.size),
    {
      referenceBlock: certificate.reference,
      checkpointHint: hint,
      signerBitmap: signers,
      signature: toHex(uncompressedSignature(certificate.signature)),
      nonSignerKeys: toHex(Buffer.concat(nonSigners.map((n) => uncompressedPublicKey(n.publicKey)))),
    },
  ] as const;
  const { result: _, ...mined } = await transact(options, "posting the batch", async ({ client, wallet }) => {
    const { request, result } = await client.simulateContract({
      address: inbox,
      abi: cellarInboxAbi,
      functionName: "postBatch",
      args,
      account: wallet.account,
      blockTag: "pending",
    });
    return { hash: await wallet.writeContract(request), result };
  });
  return mined;
}
