// Benchmark: L1 gas of settling a batch through the inbox (`postBatch`: root commitment check,
// reference window, the registry snapshot's stake quorum with the non-signers' keys as calldata
// checked against stored key hashes, hash to G2, pairing check through the EIP-2537 precompiles,
// one storage write) with 4, 16, 64 and 256 staked nodes, at the bare quorum and with every node
// signing, beside the reference measured in the same run on the same anvil: the gas of posting
// the batch's bytes to L1 directly as calldata. Keys, signatures and certificates are real (blst);
// every figure is a mined transaction's gasUsed.
//
//   npm run bench:gas                     # 4, 16, 64, 256 nodes; a one-blob batch (126,976 bytes)
//   npm run bench:gas -- --nodes 4,8 --kib 64
//   npm run bench:gas -- --json
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { rootPreimage } from "@cellar/codec";
import {
  type Anvil,
  deployContracts,
  latestBlock,
  publicClient,
  registerNode,
  SOLC_VERSION,
  settleBatch,
  startAnvil,
} from "@cellar/l1";
import { PAYLOAD_BYTES_PER_BLOB } from "@cellar/params";
import { buildCertificate, generateSecretKey, quorumSize, type SecretKey, signAttestation } from "@cellar/protocol";
import { fromHex } from "@cellar/utils";
import { keccak_256 } from "@noble/hashes/sha3";
import { createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const { values: args } = parseArgs({
  options: {
    nodes: { type: "string", default: "4,16,64,256" },
    kib: { type: "string", default: String(PAYLOAD_BYTES_PER_BLOB / 1024) },
    hardfork: { type: "string", default: "osaka" },
    json: { type: "boolean", default: false },
  },
});
const log = (line: string) => {
  if (!args.json) process.stdout.write(`${line}\n`);
};
const sizes = args.nodes.split(",").map(Number);
const batchBytes = Math.round(Number(args.kib) * 1024);

const anvil: Anvil = await startAnvil({ hardfork: args.hardfork });
const account = anvil.accounts[0] as Anvil["accounts"][number];
const signer = { rpcUrl: anvil.rpcUrl, privateKey: account.privateKey };

// The reference: the batch's bytes as calldata of a plain transaction (random bytes, as compressed
// rollup data is), to an address with no code.
const wallet = createWalletClient({
  account: privateKeyToAccount(account.privateKey),
  transport: http(anvil.rpcUrl),
});
const hash = await wallet.sendTransaction({
  to: `0x${"ca".repeat(20)}`,
  data: `0x${randomBytes(batchBytes).toString("hex")}`,
  chain: null,
});
const calldataGas = (await publicClient(anvil.rpcUrl).waitForTransactionReceipt({ hash })).gasUsed;
log(`anvil (${args.hardfork}), contracts compiled with solc ${SOLC_VERSION}`);
log(
  `reference: ${batchBytes.toLocaleString("en")} bytes of batch data as calldata: ${calldataGas.toLocaleString("en")} gas`,
);
log("");
log("nodes  signers  postBatch gas  register gas (each)  postBatch / calldata");

const results: {
  nodes: number;
  signers: number;
  postBatchGas: string;
  allSignPostBatchGas: string;
  registerGas: string;
  ratioToCalldata: number;
}[] = [];
for (const n of sizes) {
  const { registry, inbox, chainId } = await deployContracts({ ...signer, minimumStake: 10n ** 16n });
  const domain = { chainId, inbox: fromHex(inbox, 20) };
  const keys: SecretKey[] = [];
  let registerGas = 0n;
  for (let i = 0; i < n; i++) {
    const secretKey = generateSecretKey(randomBytes(32));
    keys.push(secretKey);
    registerGas += (await registerNode({ ...signer, registry, url: `http://127.0.0.1:${9000 + i}`, secretKey }))
      .gasUsed;
  }
  const post = async (signers: number) => {
    const blobsRoot = new Uint8Array(randomBytes(32));
    const blobCount = Math.max(1, Math.ceil(batchBytes / PAYLOAD_BYTES_PER_BLOB));
    const root = keccak_256(rootPreimage(blobsRoot, blobCount, batchBytes));
    const reference = await latestBlock(signer);
    const signatures = new Map(keys.slice(0, signers).map((k, i) => [i, signAttestation(k, domain, root, reference)]));
    const certificate = buildCertificate(root, signatures, n, reference);
    return (await settleBatch({ ...signer, inbox, root, blobsRoot, blobCount, size: batchBytes, certificate })).gasUsed;
  };
  const q = quorumSize(n);
  const atQuorum = await post(q);
  const allSign = await post(n);
  const ratio = Number(atQuorum) / Number(calldataGas);
  results.push({
    nodes: n,
    signers: q,
    postBatchGas: atQuorum.toString(),
    allSignPostBatchGas: allSign.toString(),
    registerGas: (registerGas / BigInt(n)).toString(),
    ratioToCalldata: Number(ratio.toFixed(4)),
  });
  log(
    `${String(n).padStart(5)}  ${String(q).padStart(7)}  ${atQuorum.toLocaleString("en").padStart(13)}  ${(registerGas / BigInt(n)).toLocaleString("en").padStart(19)}  ${ratio.toFixed(3).padStart(20)}`,
  );
  log(`       all ${n} sign: ${allSign.toLocaleString("en")} gas`);
}
await anvil.stop();
if (args.json)
  process.stdout.write(
    `${JSON.stringify({ hardfork: args.hardfork, batchBytes, calldataGas: calldataGas.toString(), results }, null, 2)}\n`,
  );
