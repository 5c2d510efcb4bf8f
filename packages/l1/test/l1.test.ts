// The registry and inbox on a real anvil: nodes bond stake and register with proofs of possession
// bound to their operator, chain and registry; a certificate made by real storage nodes (over
// HTTP, LMDB, real BLS keys) under a registry snapshot is recorded after the on-chain checks
// (root commitment, reference window, stake quorum, aggregate signature); every forged or
// replayed certificate and proof reverts with its reason; bonds unbond only after the delay; and
// a KZG opening made by the project's KZG layer verifies through the 0x0a precompile.
import { randomBytes } from "node:crypto";
import { NodeClient, retrieveBatch } from "@cellar/client";
import { blobProof, blobsRoot, frameBatch, packBlobs, rootPreimage, versionedHash } from "@cellar/codec";
import { Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { sharedErasure } from "@cellar/native";
import {
  type AttestationDomain,
  buildCertificate,
  type Certificate,
  checkCertificate,
  custodyTable,
  DISPERSER_POP_TAG,
  generateSecretKey,
  parseCertificate,
  proofOfPossession,
  type SecretKey,
  signAttestation,
  signerBitmap,
  signersOf,
} from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY } from "@cellar/test-utils/cluster";
import { fromHex, toHex } from "@cellar/utils";
import { keccak_256 } from "@noble/hashes/sha3";
import t, { type Test } from "tap";
import {
  type Anvil,
  bitmapToUint,
  cellarInboxAbi,
  cellarRegistryAbi,
  deployContracts,
  deregisterDisperser,
  deregisterNode,
  inboxFeed,
  isRecorded,
  L1Error,
  latestBlock,
  operatorOf,
  type PostedBatch,
  postedBatches,
  publicClient,
  readDispersers,
  readNodeSet,
  readParameters,
  readRegistry,
  recordedBatch,
  registerDisperser,
  registerNode,
  registryDisperserFeed,
  registryNodeFeed,
  registrySnapshots,
  revertReason,
  type Settlement,
  setAllowed,
  setNodeUrl,
  settleBatch,
  startAnvil,
  uintToBitmap,
  uncompressedPublicKey,
  uncompressedSignature,
  verifyOpeningOnChain,
  watchBatches,
  withdrawDisperser,
  withdrawNode,
} from "../src/index.js";

const kzg = sharedKzg();
const erasure = sharedErasure();
const anvil: Anvil = await startAnvil();
t.teardown(() => anvil.stop());
const account = (i: number) => anvil.accounts[i] as Anvil["accounts"][number];
const owner = account(0);
const signer = { rpcUrl: anvil.rpcUrl, privateKey: owner.privateKey };
const stranger = { rpcUrl: anvil.rpcUrl, privateKey: account(1).privateKey };
const UNBONDING = 40;
// A bond of 1 wei per node keeps quorum figures readable: QuorumNotReached(3, 4).
const { registry, inbox, chainId } = await deployContracts({
  ...signer,
  minimumStake: 1n,
  unbondingBlocks: UNBONDING,
  referenceWindow: 30,
});
const domain: AttestationDomain = { chainId, inbox: fromHex(inbox, 20) };
const snapshots = registrySnapshots({ rpcUrl: anvil.rpcUrl, registry });
const binding = (operator: Uint8Array, reg = registry, chain = chainId) => ({
  operator,
  chainId: chain,
  registry: fromHex(reg, 20),
});

/** The revert reason a call failed with (fails the test when it did not revert). */
async function revertOf(t: Test, work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    t.ok(err instanceof L1Error && err.code === "CELLAR_ERR_L1_REVERTED", "reverted on chain");
    return String((err as L1Error).context.reason);
  }
  t.fail("expected a revert");
  return "";
}

async function mineBlocks(n: number): Promise<void> {
  await publicClient(anvil.rpcUrl).request({ method: "anvil_mine" as never, params: [`0x${n.toString(16)}`] as never });
}

/** A batch root with what it commits to (a random blobs root, one blob of `size` bytes). */
function fakeBatch(size = 10): { root: Uint8Array; blobsRoot: Uint8Array; blobCount: number; size: number } {
  const blobs = new Uint8Array(randomBytes(32));
  return { root: keccak_256(rootPreimage(blobs, 1, size)), blobsRoot: blobs, blobCount: 1, size };
}

/** A certificate of `root` at `reference` signed by `keys[i]` for each i in `indexes`. */
function certify(
  keys: readonly SecretKey[],
  indexes: number[],
  root: Uint8Array,
  reference: bigint,
  d: AttestationDomain = domain,
): Certificate {
  const signatures = new Map(indexes.map((i) => [i, signAttestation(keys[i] as SecretKey, d, root, reference)]));
  return buildCertificate(root, signatures, 8, reference);
}

// Six real storage nodes, registered on chain with their own keys and bound proofs of possession.
const cluster = await startCluster(6, kzg, domain);
t.teardown(() => cluster.stop());
const registered: number[] = [];
for (const node of cluster.nodes) {
  registered.push(
    (await registerNode({ ...signer, registry, url: node.url, secretKey: node.identity.secretKey })).index,
  );
}
const set = await readNodeSet({ rpcUrl: anvil.rpcUrl, registry });
for (const node of cluster.nodes) node.setNodes(set);
const disperser = new Disperser({ key: TEST_DISPERSER_KEY, nodes: set, domain, snapshots }, { kzg, erasure });
t.teardown(() => disperser.close());

const payload = new Uint8Array(randomBytes(200_000));
const posted = await disperser.post(payload);
const certificate = parseCertificate(posted.certificate);
const root = fromHex(posted.root, 32);
const leaves = posted.blobs.map((b) => fromHex(b.versionedHash, 32));
const settlement: Settlement = {
  root,
  blobsRoot: blobsRoot(leaves),
  blobCount: posted.blobs.length,
  size: posted.size,
  certificate,
};
const keys = cluster.nodes.map((n) => n.identity.secretKey);

t.test("the registry holds every node in order, with its key, bond and parameters", async (t) => {
  t.same(registered, [0, 1, 2, 3, 4, 5], "registration answers each node's index");
  t.equal(set.length, 6);
  t.same(
    set.map((n) => [n.index, toHex(n.publicKey), n.url, n.stake]),
    cluster.nodes.map((n, i) => [i, toHex(n.identity.publicKey), n.url, 1n]),
  );
  t.same(
    set.map((n) => toHex(n.nodeId)),
    cluster.nodes.map((n) => toHex(n.identity.nodeId)),
    "the node id the contract derives is the node's own",
  );
  t.same(await readParameters({ rpcUrl: anvil.rpcUrl, registry, inbox }), {
    minimumStake: 1n,
    unbondingBlocks: BigInt(UNBONDING),
    permissioned: false,
    referenceWindow: 30n,
  });
  t.same(toHex(operatorOf(owner.privateKey)), owner.address.toLowerCase());
  t.throws(() => operatorOf("0x12"), { code: "CELLAR_ERR_L1_INVALID_INPUT" });
  t.same(uintToBitmap(bitmapToUint(signerBitmap([0, 9, 255], 256))), signerBitmap([0, 9, 255], 256));
  t.throws(() => bitmapToUint(new Uint8Array(33)), { code: "CELLAR_ERR_L1_INVALID_INPUT" });
});

t.test("registration refuses sybils without stake, rogue and replayed proofs, bad keys and URLs", async (t) => {
  const fresh = generateSecretKey(randomBytes(32));
  const url = "http://127.0.0.1:1";
  t.match(
    await revertOf(t, registerNode({ ...signer, registry, url, secretKey: fresh, stake: 0n })),
    /^StakeTooLow\(0, 1\)/,
    "no bond, no slot",
  );
  // A key registered with a proof of possession made by another key: a rogue-key attempt.
  const other = generateSecretKey(randomBytes(32));
  const mine = binding(operatorOf(owner.privateKey));
  t.match(
    await revertOf(
      t,
      registerNode({
        ...signer,
        registry,
        url,
        publicKey: fresh.toPublicKey().toBytes(),
        proofOfPossession: proofOfPossession(other, mine),
      }),
    ),
    /^InvalidProofOfPossession/,
    "a rogue key",
  );
  // The honest operator's proof, as its node publishes it, replayed by a squatter first.
  const honest = proofOfPossession(fresh, binding(operatorOf(account(2).privateKey)));
  const squat = { ...stranger, registry, url, publicKey: fresh.toPublicKey().toBytes() };
  t.match(
    await revertOf(t, registerNode({ ...squat, proofOfPossession: honest })),
    /^InvalidProofOfPossession/,
    "a proof made for another operator",
  );
  const mineForStranger = binding(operatorOf(account(1).privateKey));
  t.match(
    await revertOf(
      t,
      registerNode({ ...squat, proofOfPossession: proofOfPossession(fresh, { ...mineForStranger, chainId: 1n }) }),
    ),
    /^InvalidProofOfPossession/,
    "a proof made for another chain",
  );
  t.match(
    await revertOf(
      t,
      registerNode({
        ...squat,
        proofOfPossession: proofOfPossession(fresh, { ...mineForStranger, registry: new Uint8Array(20).fill(9) }),
      }),
    ),
    /^InvalidProofOfPossession/,
    "a proof made for another registry",
  );
  t.match(
    await revertOf(
      t,
      registerNode({ ...squat, proofOfPossession: proofOfPossession(fresh, mineForStranger, DISPERSER_POP_TAG) }),
    ),
    /^InvalidProofOfPossession/,
    "a disperser's proof for a node",
  );
  t.match(
    await revertOf(t, registerNode({ ...signer, registry, url, secretKey: keys[0] as SecretKey })),
    /^KeyAlreadyRegistered/,
  );
  t.match(
    await revertOf(t, registerNode({ ...signer, registry, url: "ftp://nowhere", secretKey: fresh })),
    /^InvalidUrl/,
  );
  // Raw calls for encodings the TypeScript side would never produce.
  const client = publicClient(anvil.rpcUrl);
  const pop = toHex(new Uint8Array(192));
  const raw = async (key: Uint8Array) => {
    try {
      await client.simulateContract({
        address: registry,
        abi: cellarRegistryAbi,
        functionName: "register",
        args: [toHex(key), url, pop],
        value: 1n,
        account: owner.address,
      });
      return "accepted";
    } catch (err) {
      return revertReason(err) ?? "no reason";
    }
  };
  const infinity = new Uint8Array(96);
  infinity[0] = 0x40;
  t.match(await raw(infinity), /^InfinityKey/, "the infinity flag");
  t.match(await raw(new Uint8Array(96)), /^InfinityKey/, "all zeros");
  const offCurve = fresh.toPublicKey().toBytes(false);
  offCurve[95] = (offCurve[95] as number) ^ 1;
  t.match(await raw(offCurve), /^MalformedKey/, "a point off the curve");
  t.match(await raw(new Uint8Array(95)), /^MalformedKey/, "95 bytes");
  t.match(await raw(fresh.toPublicKey().toBytes(true)), /^MalformedKey/, "a compressed key");
  t.match(await raw(new Uint8Array(192)), /^MalformedKey/, "a wrong length");
  t.equal((await readRegistry({ rpcUrl: anvil.rpcUrl, registry })).length, 6, "nothing was registered");
  // The honest operator still registers its key with its own proof.
  const ok = await registerNode({
    rpcUrl: anvil.rpcUrl,
    privateKey: account(2).privateKey,
    registry,
    url,
    publicKey: fresh.toPublicKey().toBytes(),
    proofOfPossession: honest,
  });
  t.equal(ok.index, 6, "the real operator is not locked out");
  await deregisterNode({ rpcUrl: anvil.rpcUrl, privateKey: account(2).privateKey, registry, index: 6 });
});

t.test("a certificate made by real storage nodes is recorded after the on-chain checks", async (t) => {
  const atReference = await readNodeSet({ rpcUrl: anvil.rpcUrl, registry, reference: certificate.reference });
  t.equal(checkCertificate(certificate, atReference, domain), null, "the certificate holds off chain");
  t.ok(certificate.reference > 0n, `made under reference block ${certificate.reference}`);
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root }), false);
  const seen: Uint8Array[] = [];
  const stop = watchBatches({ rpcUrl: anvil.rpcUrl, inbox, pollingIntervalMs: 100 }, (b) => seen.push(b.root));
  // The wrong count or size is refused (the root commits to both); the right call still records.
  t.match(
    await revertOf(t, settleBatch({ ...signer, inbox, ...settlement, size: settlement.size + 1 })),
    /^RootMismatch/,
    "a size that is not the root's",
  );
  t.match(
    await revertOf(t, settleBatch({ ...signer, inbox, ...settlement, blobCount: settlement.blobCount + 1 })),
    /^RootMismatch/,
    "a blob count that is not the root's",
  );
  const mined = await settleBatch({ ...signer, inbox, ...settlement });
  t.ok(mined.gasUsed > 100_000n && mined.gasUsed < 1_000_000n, `postBatch used ${mined.gasUsed} gas`);
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root }), true);
  t.same(await recordedBatch({ rpcUrl: anvil.rpcUrl, inbox, root }), {
    blobCount: posted.blobs.length,
    size: posted.size,
    blockNumber: mined.blockNumber,
    reference: certificate.reference,
    signers: signersOf(certificate.signerBitmap).length,
  });
  t.equal(await recordedBatch({ rpcUrl: anvil.rpcUrl, inbox, root: new Uint8Array(32) }), null);
  const events = await postedBatches({ rpcUrl: anvil.rpcUrl, inbox });
  t.same(
    events.map((e) => [toHex(e.root), e.blobCount, e.size, e.reference, signersOf(e.signerBitmap), e.txHash]),
    [
      [
        toHex(root),
        posted.blobs.length,
        posted.size,
        certificate.reference,
        signersOf(certificate.signerBitmap),
        mined.txHash,
      ],
    ],
  );
  for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  stop();
  t.same(seen.map(toHex), [toHex(root)], "the watcher saw the batch");
  t.match(await revertOf(t, settleBatch({ ...signer, inbox, ...settlement })), /^BatchAlreadyRecorded/);
});

t.test("forged, expired and replayed certificates revert with their reason", async (t) => {
  const batch = fakeBatch();
  const reference = await latestBlock(signer);
  const sign = (indexes: number[], d: AttestationDomain = domain, r: Uint8Array = batch.root, ref = reference) =>
    certify(keys, indexes, r, ref, d);
  const post = (c: Certificate, target = inbox) =>
    revertOf(t, settleBatch({ ...signer, inbox: target, ...batch, certificate: c }));

  const good = sign([0, 1, 2, 3]);
  t.match(
    await post({ ...sign([0, 1, 2, 3], domain, new Uint8Array(32).fill(1)), root: batch.root }),
    /^InvalidSignature/,
    "a signature over another root",
  );
  t.match(
    await post({ ...good, reference: reference - 1n }),
    /^InvalidSignature/,
    "the signature of another reference",
  );
  const flippedOn = Uint8Array.from(good.signerBitmap);
  flippedOn[0] = (flippedOn[0] as number) | (1 << 4);
  t.match(await post({ ...good, signerBitmap: flippedOn }), /^InvalidSignature/, "a bit flipped on");
  const flippedOff = Uint8Array.from(good.signerBitmap);
  flippedOff[0] = (flippedOff[0] as number) & ~1;
  t.match(await post({ ...good, signerBitmap: flippedOff }), /^QuorumNotReached\(3, 4\)/, "a bit flipped off");
  t.match(await post(sign([0, 1, 2])), /^QuorumNotReached\(3, 4\)/, "three signers of six");
  t.match(await post({ ...good, signerBitmap: signerBitmap([0, 1, 2, 3, 9], 16) }), /^UnknownSigner\(9\)/);
  t.match(
    await post(sign([0, 1, 2, 3], { chainId: chainId + 1n, inbox: domain.inbox })),
    /^InvalidSignature/,
    "a certificate for another chain id",
  );
  t.match(
    await post(sign([0, 1, 2, 3], { chainId, inbox: new Uint8Array(20).fill(7) })),
    /^InvalidSignature/,
    "a certificate for another inbox",
  );
  t.match(await post(sign([0, 1, 2, 3], domain, batch.root, reference + 5n)), /^FutureReference/, "a future reference");
  const other = await deployContracts({ ...signer, registry, referenceWindow: 2 });
  t.equal(other.registry, registry);
  t.match(await post(good, other.inbox), /^InvalidSignature/, "replayed to another inbox");
  // An expired certificate: its reference is more than the window behind the posting block.
  const otherDomain = { chainId, inbox: fromHex(other.inbox, 20) };
  const stale = sign([0, 1, 2, 3, 4, 5], otherDomain, batch.root, await latestBlock(signer));
  await mineBlocks(3);
  const head = await latestBlock(signer);
  t.match(checkCertificate(stale, set, otherDomain, { head, window: 2n }) ?? "", /expired/, "refused off chain too");
  t.match(checkCertificate(stale, set, otherDomain, { head: stale.reference - 1n }) ?? "", /after the latest block/);
  t.match(await post(stale, other.inbox), /^CertificateExpired/, "an expired certificate");
  t.match(
    await revertOf(t, deployContracts({ ...signer, registry, referenceWindow: UNBONDING + 1 })),
    /InvalidWindow/,
    "a window longer than the unbonding delay",
  );

  // Calldata the TypeScript side would never send, sent raw.
  const [hint] = await publicClient(anvil.rpcUrl).readContract({
    address: registry,
    abi: cellarRegistryAbi,
    functionName: "checkpointAt",
    args: [reference],
  });
  const nonSigners = set.filter((n) => ![0, 1, 2, 3].includes(n.index));
  const keysOf = (nodes: typeof set) => toHex(Buffer.concat(nodes.map((n) => uncompressedPublicKey(n.publicKey))));
  const raw = async (
    overrides: Partial<{ signature: Uint8Array; nonSignerKeys: `0x${string}`; checkpointHint: bigint }>,
  ) => {
    try {
      await publicClient(anvil.rpcUrl).simulateContract({
        address: inbox,
        abi: cellarInboxAbi,
        functionName: "postBatch",
        args: [
          toHex(batch.root),
          toHex(batch.blobsRoot),
          1n,
          BigInt(batch.size),
          {
            referenceBlock: reference,
            checkpointHint: overrides.checkpointHint ?? hint,
            signerBitmap: bitmapToUint(good.signerBitmap),
            signature: toHex(overrides.signature ?? uncompressedSignature(good.signature)),
            nonSignerKeys: overrides.nonSignerKeys ?? keysOf(nonSigners),
          },
        ],
        account: owner.address,
        blockTag: "pending",
      });
      return "accepted";
    } catch (err) {
      return revertReason(err) ?? "no reason";
    }
  };
  t.equal(await raw({}), "accepted", "the honest call, raw");
  const offCurve = uncompressedSignature(good.signature);
  offCurve[191] = (offCurve[191] as number) ^ 1;
  t.match(await raw({ signature: offCurve }), /^MalformedSignature/, "a signature off the curve");
  t.match(await raw({ signature: good.signature }), /^MalformedSignature/, "a compressed signature");
  const infinity = new Uint8Array(192);
  infinity[0] = 0x40;
  t.match(await raw({ signature: infinity }), /^MalformedSignature/, "the infinity signature");
  t.match(
    await raw({ nonSignerKeys: keysOf([set[0], set[5]] as typeof set) }),
    /^NonSignerKeyMismatch\(4\)/,
    "a signer's key passed as a non-signer's",
  );
  t.match(await raw({ nonSignerKeys: keysOf(nonSigners.slice(1)) }), /^NonSignerKeysLength/, "a key missing");
  t.match(await raw({ checkpointHint: hint + 100n }), /^BadCheckpointHint/, "a hint past the end");
  t.match(await raw({ checkpointHint: 0n }), /^BadCheckpointHint/, "a checkpoint superseded before the reference");
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: batch.root }), false, "nothing forged was recorded");
  await settleBatch({ ...signer, inbox, ...batch, certificate: good });
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: batch.root }), true, "the honest one is");
});

t.test("quorum is by stake: one big node against many small ones", async (t) => {
  const weighted = await deployContracts({ ...signer, minimumStake: 1n, unbondingBlocks: 10, referenceWindow: 10 });
  const d = { chainId, inbox: fromHex(weighted.inbox, 20) };
  const big = generateSecretKey(randomBytes(32));
  const small = Array.from({ length: 5 }, () => generateSecretKey(randomBytes(32)));
  await registerNode({ ...signer, registry: weighted.registry, url: "http://127.0.0.1:2", secretKey: big, stake: 10n });
  for (const k of small)
    await registerNode({ ...signer, registry: weighted.registry, url: "http://127.0.0.1:3", secretKey: k });
  const all = [big, ...small];
  const reference = await latestBlock(signer);
  const nodes = await readNodeSet({ rpcUrl: anvil.rpcUrl, registry: weighted.registry, reference });
  t.same(
    nodes.map((n) => n.stake),
    [10n, 1n, 1n, 1n, 1n, 1n],
  );
  const post = (indexes: number[]) => {
    const batch = fakeBatch();
    const c = certify(all, indexes, batch.root, reference, d);
    return { c, run: () => settleBatch({ ...signer, inbox: weighted.inbox, ...batch, certificate: c }) };
  };
  // Five of six nodes, but only 5 of 15 staked wei: no quorum, on chain and off.
  const many = post([1, 2, 3, 4, 5]);
  t.match(await revertOf(t, many.run()), /^QuorumNotReached\(5, 10\)/, "many small nodes are not enough");
  t.match(checkCertificate(many.c, nodes, d, { replication: 2 }) ?? "", /hold 5 of the stake, quorum is 10/);
  // The big node alone holds 10 of 15 = two thirds.
  const one = post([0]);
  t.equal((await one.run()).blockNumber > 0n, true, "one big node meets the quorum");
  const bigAndOne = post([0, 1]);
  await bigAndOne.run();
  t.pass("and with a small one too");
});

t.test("a certificate made before a node joined is judged, and its custody found, by its snapshot", async (t) => {
  const batchPayload = new Uint8Array(randomBytes(50_000));
  const before = await disperser.post(batchPayload);
  const cert = parseCertificate(before.certificate);
  const snapshot = await readNodeSet({ rpcUrl: anvil.rpcUrl, registry, reference: cert.reference });
  // Two nodes join after the certificate was made; they hold nothing of this batch.
  for (let i = 0; i < 2; i++)
    await registerNode({
      ...signer,
      registry,
      url: `http://127.0.0.1:${2 + i}`,
      secretKey: generateSecretKey(randomBytes(32)),
    });
  const now = await readNodeSet({ rpcUrl: anvil.rpcUrl, registry });
  t.equal(now.length, snapshot.length + 2, "the current set is larger");
  const later = await snapshots.nodesAt(cert.reference);
  t.same(
    later.map((n) => n.index),
    snapshot.map((n) => n.index),
    "the snapshot never changes",
  );
  t.not(
    JSON.stringify(custodyTable(now).map((h) => h.map((n) => n.index))),
    JSON.stringify(custodyTable(snapshot).map((h) => h.map((n) => n.index))),
    "custody under the current set differs",
  );
  const client = new NodeClient({ timeoutMs: 5000, attempts: 1 });
  t.teardown(() => client.close());
  const got = await retrieveBatch(fromHex(before.root, 32), { nodes: snapshot, client, kzg, erasure });
  t.same(Buffer.from(got.payload), Buffer.from(batchPayload), "the snapshot's custody finds every column");
  t.same(
    Buffer.from(await disperser.data(fromHex(before.root, 32))),
    Buffer.from(batchPayload),
    "so does the disperser",
  );
  const mined = await settleBatch({
    ...signer,
    inbox,
    root: fromHex(before.root, 32),
    blobsRoot: blobsRoot(before.blobs.map((b) => fromHex(b.versionedHash, 32))),
    blobCount: before.blobs.length,
    size: before.size,
    certificate: cert,
  });
  t.ok(mined.blockNumber > 0n, "the inbox judges it against the snapshot of its reference");
});

t.test("a KZG opening of a recorded batch's blob verifies through 0x0a; a wrong one reverts", async (t) => {
  const blobs = packBlobs(frameBatch(payload));
  t.ok(blobs.length >= 2, "the batch spans several blobs");
  for (const blobIndex of [0, blobs.length - 1]) {
    const blob = blobs[blobIndex] as Uint8Array;
    const commitment = fromHex(posted.blobs[blobIndex]?.commitment, 48);
    t.same(toHex(versionedHash(commitment)), toHex(leaves[blobIndex] as Uint8Array));
    const z = new Uint8Array(32);
    z.set(randomBytes(31), 1);
    const { proof, y } = kzg.computeProof(blob, z);
    const opening = { root, blobIndex, merkleProof: blobProof(leaves, blobIndex), commitment, z, y, proof };
    t.equal(await verifyOpeningOnChain({ rpcUrl: anvil.rpcUrl, inbox, ...opening }), true, `blob ${blobIndex}`);

    const wrongY = Uint8Array.from(y);
    wrongY[31] = (wrongY[31] as number) ^ 1;
    t.match(
      await revertOf(t, verifyOpeningOnChain({ rpcUrl: anvil.rpcUrl, inbox, ...opening, y: wrongY })),
      /^InvalidOpening/,
    );
    t.match(
      await revertOf(t, verifyOpeningOnChain({ rpcUrl: anvil.rpcUrl, inbox, ...opening, blobIndex: blobIndex ^ 1 })),
      /^NotInBatch/,
      "the right opening claimed for another blob",
    );
  }
  const blob0 = { root, blobIndex: 0, merkleProof: blobProof(leaves, 0) };
  const base = {
    ...blob0,
    commitment: fromHex(posted.blobs[0]?.commitment, 48),
    z: new Uint8Array(32),
    y: new Uint8Array(32),
    proof: new Uint8Array(48),
  };
  t.match(
    await revertOf(t, verifyOpeningOnChain({ rpcUrl: anvil.rpcUrl, inbox, ...base, root: new Uint8Array(32) })),
    /^UnknownBatch/,
  );
  t.match(
    await revertOf(t, verifyOpeningOnChain({ rpcUrl: anvil.rpcUrl, inbox, ...base, blobIndex: 99 })),
    /^BlobIndexOutOfRange/,
  );
  t.match(
    await revertOf(t, verifyOpeningOnChain({ rpcUrl: anvil.rpcUrl, inbox, ...base, merkleProof: [] })),
    /^InvalidProofLength/,
  );
});

t.test("a node that leaves keeps its index, never counts again, and unbonds only after the delay", async (t) => {
  const left = 5;
  await deregisterNode({ ...signer, registry, index: left });
  const now = await readNodeSet({ rpcUrl: anvil.rpcUrl, registry });
  t.notOk(
    now.some((n) => n.index === left),
    "out of the active set",
  );
  const slots = await readRegistry({ rpcUrl: anvil.rpcUrl, registry });
  t.equal(slots[left]?.active, false);
  t.ok((slots[left]?.leftBlock ?? 0n) > 0n);
  const batch = fakeBatch();
  const reference = await latestBlock(signer);
  const post = (indexes: number[]) =>
    settleBatch({ ...signer, inbox, ...batch, certificate: certify(keys, indexes, batch.root, reference) });
  t.match(await revertOf(t, post([1, 2, 3, 5])), /^UnknownSigner\(5\)/, "the leaver's bit");
  t.match(await revertOf(t, deregisterNode({ ...signer, registry, index: left })), /^NodeNotActive\(5\)/);
  t.match(await revertOf(t, deregisterNode({ ...stranger, registry, index: 0 })), /^NotOperator\(0, /);
  // Unbonding: not before the delay, then once.
  t.match(await revertOf(t, withdrawNode({ ...signer, registry, index: left })), /^StillUnbonding\(5, /);
  t.match(await revertOf(t, withdrawNode({ ...signer, registry, index: 0 })), /^StillActive\(0\)/);
  t.match(await revertOf(t, withdrawNode({ ...stranger, registry, index: left })), /^NotOperator/);
  await mineBlocks(UNBONDING - 5);
  t.match(await revertOf(t, withdrawNode({ ...signer, registry, index: left })), /^StillUnbonding/, "still early");
  await mineBlocks(10);
  const client = publicClient(anvil.rpcUrl);
  const balance = await client.getBalance({ address: owner.address });
  const paid = await withdrawNode({ ...signer, registry, index: left });
  t.ok(paid.blockNumber > 0n, "withdrawn after the delay");
  t.ok((await client.getBalance({ address: owner.address })) < balance, "(the bond of 1 wei is less than the gas)");
  t.match(await revertOf(t, withdrawNode({ ...signer, registry, index: left })), /^AlreadyWithdrawn\(5\)/);
  // The withdrawn slot is taken by the next new node.
  const reused = await registerNode({
    ...signer,
    registry,
    url: "http://127.0.0.1:9",
    secretKey: generateSecretKey(randomBytes(32)),
  });
  t.equal(reused.index, left, "the freed slot is reused");
});

t.test("a permissioned registry admits only allow-listed operators, with their bond", async (t) => {
  const committee = await deployContracts({
    ...signer,
    minimumStake: 5n,
    unbondingBlocks: 10,
    referenceWindow: 10,
    permissioned: true,
  });
  const reg = committee.registry;
  const key = generateSecretKey(randomBytes(32));
  const url = "http://127.0.0.1:4";
  t.match(await revertOf(t, registerNode({ ...stranger, registry: reg, url, secretKey: key })), /^NotAllowed/);
  t.match(
    await revertOf(t, setAllowed({ ...stranger, registry: reg, operator: account(1).address, allowed: true })),
    /^NotOwner/,
  );
  await setAllowed({ ...signer, registry: reg, operator: account(1).address, allowed: true });
  t.match(
    await revertOf(t, registerNode({ ...stranger, registry: reg, url, secretKey: key, stake: 4n })),
    /^StakeTooLow\(4, 5\)/,
    "the allow-list works alongside the bond",
  );
  t.equal((await registerNode({ ...stranger, registry: reg, url, secretKey: key })).index, 0);
});

t.test(
  "dispersers register a BLS key with a bound proof and a bond; readDispersers lists the active ones",
  async (t) => {
    const key = generateSecretKey(randomBytes(32));
    const first = await registerDisperser({ ...signer, registry, url: "https://disperser.example", secretKey: key });
    t.equal(first.index, 0);
    const second = generateSecretKey(randomBytes(32));
    await registerDisperser({ ...stranger, registry, url: "http://127.0.0.1:7000", secretKey: second, stake: 3n });
    const listed = await readDispersers({ rpcUrl: anvil.rpcUrl, registry });
    t.same(
      listed.map((d) => [d.index, toHex(d.publicKey), d.url, d.operator.toLowerCase(), d.active, d.stake]),
      [
        [0, toHex(key.toPublicKey().toBytes()), "https://disperser.example", owner.address.toLowerCase(), true, 1n],
        [1, toHex(second.toPublicKey().toBytes()), "http://127.0.0.1:7000", account(1).address.toLowerCase(), true, 3n],
      ],
    );
    t.match(
      await revertOf(t, registerDisperser({ ...signer, registry, url: "http://127.0.0.1:1", secretKey: key })),
      /^KeyAlreadyRegistered/,
    );
    t.match(
      await revertOf(
        t,
        registerDisperser({
          ...stranger,
          registry,
          url: "http://127.0.0.1:1",
          publicKey: generateSecretKey(randomBytes(32)).toPublicKey().toBytes(),
          proofOfPossession: proofOfPossession(key, binding(operatorOf(account(1).privateKey))),
        }),
      ),
      /^InvalidProofOfPossession/,
    );
    t.match(
      await revertOf(
        t,
        registerDisperser({
          ...signer,
          registry,
          url: "http://127.0.0.1:1",
          secretKey: generateSecretKey(randomBytes(32)),
          stake: 0n,
        }),
      ),
      /^StakeTooLow/,
    );
    t.match(await revertOf(t, deregisterDisperser({ ...signer, registry, index: 1 })), /^NotOperator/);
    t.match(await revertOf(t, withdrawDisperser({ ...signer, registry, index: 0 })), /^StillActive\(0\)/);
    await deregisterDisperser({ ...signer, registry, index: 0 });
    t.match(await revertOf(t, deregisterDisperser({ ...signer, registry, index: 0 })), /^NodeNotActive\(0\)/);
    t.same(
      (await readDispersers({ rpcUrl: anvil.rpcUrl, registry })).map((d) => d.index),
      [1],
      "only the active ones",
    );
    t.equal((await readDispersers({ rpcUrl: anvil.rpcUrl, registry, all: true })).length, 2);
    t.match(await revertOf(t, withdrawDisperser({ ...signer, registry, index: 0 })), /^StillUnbonding\(0, /);
    await mineBlocks(UNBONDING);
    await withdrawDisperser({ ...signer, registry, index: 0 });
    t.match(await revertOf(t, withdrawDisperser({ ...signer, registry, index: 0 })), /^AlreadyWithdrawn\(0\)/);
    t.match(await revertOf(t, deregisterDisperser({ ...signer, registry, index: 7 })), /^UnknownDisperser\(7\)/);
  },
);

t.test("an operator changes its node's URL; bad deployments are refused", async (t) => {
  const moved = await setNodeUrl({ ...signer, registry, index: 1, url: "https://node-1.example:7100" });
  t.match(moved, { txHash: /^0x[0-9a-f]{64}$/ }, "mined");
  t.equal(typeof moved.blockNumber, "bigint");
  const slots = await readRegistry({ rpcUrl: anvil.rpcUrl, registry });
  t.equal(slots[1]?.url, "https://node-1.example:7100");
  await t.rejects(
    setNodeUrl({ ...stranger, registry, index: 1, url: "https://elsewhere.example" }),
    { code: "CELLAR_ERR_L1_REVERTED" },
    "only the node's operator moves it",
  );
  t.equal((await readRegistry({ rpcUrl: anvil.rpcUrl, registry }))[1]?.url, "https://node-1.example:7100");
  await t.rejects(
    deployContracts({ ...signer, registry, quorumNumerator: 3, quorumDenominator: 2, referenceWindow: 10 }),
    { code: "CELLAR_ERR_L1_REVERTED", message: /InvalidQuorum\(\)/ },
    "a quorum of 3/2 cannot be met",
  );
  await t.rejects(deployContracts({ ...signer, minimumStake: 0n }), {
    code: "CELLAR_ERR_L1_REVERTED",
    message: /InvalidConfig\(\)/,
  });
  await t.rejects(readNodeSet({ rpcUrl: anvil.rpcUrl, registry, reference: 1n }), {
    code: "CELLAR_ERR_L1_REVERTED",
    message: /NoSnapshot\(1\)/,
  });
  const small = registrySnapshots({ rpcUrl: anvil.rpcUrl, registry, cacheSize: 1 });
  const head = await small.latest();
  t.same(
    (await small.nodesAt(head)).map((n) => n.index),
    (await readNodeSet({ rpcUrl: anvil.rpcUrl, registry })).map((n) => n.index),
    "the head's snapshot is the active set",
  );
  await small.nodesAt(head - 1n);
  await t.rejects(small.nodesAt(1n), { code: "CELLAR_ERR_L1_REVERTED" }, "a failed read is not cached");
  await t.rejects(small.nodesAt(1n), { code: "CELLAR_ERR_L1_REVERTED" });
});

t.test("feeds: the registry's node set and dispersers, the inbox's batches, as the roles follow them", async (t) => {
  const until = async (what: string, done: () => boolean) => {
    for (let i = 0; i < 600 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
    t.ok(done(), what);
  };
  const errors: unknown[] = [];
  // The inbox: the batches recorded earlier arrive from the look-back (then new ones as watched).
  const batches: PostedBatch[] = [];
  const stopInbox = inboxFeed({ rpcUrl: anvil.rpcUrl, inbox, pollingIntervalMs: 50 }).follow(
    (b) => batches.push(b),
    (e) => errors.push(e),
  );
  await until("the recorded batch is delivered", () => batches.some((b) => toHex(b.root) === toHex(root)));
  stopInbox();
  // The node set: the current one first, then each change, and nothing while it stays the same.
  const sets: number[] = [];
  const stopNodes = registryNodeFeed({ rpcUrl: anvil.rpcUrl, registry, pollMs: 50 }).follow(
    (nodes) => sets.push(nodes.length),
    (e) => errors.push(e),
  );
  await until("the current set", () => sets.length === 1);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(sets.length, 1, "an unchanged set is not delivered again");
  await registerNode({ ...signer, registry, url: "http://127.0.0.1:9", secretKey: generateSecretKey(randomBytes(32)) });
  await until("a node that joins changes it", () => sets.length === 2);
  t.equal(sets[1], (sets[0] as number) + 1);
  stopNodes();
  t.same(errors, [], "no failure while L1 answered");
  // Dispersers: the registry's with the operator's extra keys; a registry that does not answer is
  // reported (the node's readiness check) and nothing is delivered.
  const extra = generateSecretKey(randomBytes(32)).toPublicKey().toBytes();
  const listed = await readDispersers({ rpcUrl: anvil.rpcUrl, registry });
  const feed = registryDisperserFeed({ rpcUrl: anvil.rpcUrl, registry, extra: [extra, extra], pollMs: 50 });
  const got = await feed.read();
  t.equal(got.length, listed.length + 1, "the extra key once, beside the registry's");
  t.equal(feed.lastError(), undefined);
  const offline = registryDisperserFeed({ rpcUrl: "http://127.0.0.1:1", registry, pollMs: 20 });
  const failures: unknown[] = [];
  const stopOffline = offline.follow(
    () => t.fail("nothing to deliver while L1 is down"),
    (e) => failures.push(e),
  );
  await until("each failed poll is reported", () => failures.length >= 2);
  stopOffline();
  t.type(offline.lastError(), "string");
});

t.test("anvil does not outlive a process that dies of an uncaught error", async (t) => {
  const { execFile } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const script = fileURLToPath(new URL("../../../test/fixtures/anvil-crash.mjs", import.meta.url));
  // execFile calls back once the process has exited and its output is read to the end.
  const { code, stdout } = await new Promise<{ code: unknown; stdout: string }>((resolve) => {
    execFile(process.execPath, [script], { timeout: 120_000 }, (err, out) =>
      resolve({ code: err === null ? 0 : err.code, stdout: out }),
    );
  });
  t.equal(code, 1, "the process died of its error");
  const pid = Number(stdout.trim());
  t.ok(pid > 0, `anvil was ${pid}`);
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      alive = false;
    }
  }
  t.notOk(alive, "anvil is gone");
});
