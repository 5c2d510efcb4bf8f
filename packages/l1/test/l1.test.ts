// The registry and inbox on a real anvil: nodes register with proofs of possession checked on
// chain, a certificate made by real storage nodes (over HTTP, LMDB, real BLS keys) is recorded
// after the on-chain BLS check, every forged certificate reverts with its reason, and a KZG opening
// made by the project's KZG layer verifies through the 0x0a precompile.
import { randomBytes } from "node:crypto";
import { blobProof, frameBatch, packBlobs, versionedHash } from "@cellar/codec";
import { Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import {
  type AttestationDomain,
  buildCertificate,
  type Certificate,
  checkCertificate,
  generateSecretKey,
  parseCertificate,
  proofOfPossession,
  signAttestation,
  signerBitmap,
  signersOf,
} from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import t, { type Test } from "tap";
import { startCluster, TEST_DISPERSER_KEY } from "../../../test/helpers/cluster.js";
import {
  type Anvil,
  cellarInboxAbi,
  cellarRegistryAbi,
  deployContracts,
  deregisterNode,
  isRecorded,
  L1Error,
  postedBatches,
  publicClient,
  readNodeSet,
  readRegistry,
  recordedBatch,
  registerNode,
  revertReason,
  type Settlement,
  settleBatch,
  startAnvil,
  uncompressedSignature,
  verifyOpeningOnChain,
  watchBatches,
} from "../src/index.js";

const kzg = sharedKzg();
const anvil: Anvil = await startAnvil();
t.teardown(() => anvil.stop());
const owner = anvil.accounts[0] as Anvil["accounts"][number];
const signer = { rpcUrl: anvil.rpcUrl, privateKey: owner.privateKey };
const { registry, inbox, chainId } = await deployContracts(signer);
const domain: AttestationDomain = { chainId, inbox: fromHex(inbox, 20) };

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

// Six real storage nodes, registered on chain with their own keys and proofs of possession.
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
const disperser = new Disperser({ key: TEST_DISPERSER_KEY, nodes: set, domain }, { kzg });
t.teardown(() => disperser.close());

const payload = new Uint8Array(randomBytes(200_000));
const posted = await disperser.post(payload);
const certificate = parseCertificate(posted.certificate);
const root = fromHex(posted.root, 32);
const settlement: Settlement = { root, blobCount: posted.blobs.length, size: posted.size, certificate };

t.test("the registry holds every node in order, with the keys the nodes use", async (t) => {
  t.same(registered, [0, 1, 2, 3, 4, 5], "registration answers each node's index");
  t.equal(set.length, 6);
  t.same(
    set.map((n) => [n.index, toHex(n.publicKey), n.url]),
    cluster.nodes.map((n, i) => [i, toHex(n.identity.publicKey), n.url]),
  );
  t.same(
    set.map((n) => toHex(n.nodeId)),
    cluster.nodes.map((n) => toHex(n.identity.nodeId)),
    "the node id the contract derives is the node's own",
  );
});

t.test("registration refuses rogue, infinity, malformed, repeated keys and bad URLs", async (t) => {
  const rogue = generateSecretKey(randomBytes(32));
  // A key registered with a proof of possession made by another key: a rogue-key attempt.
  t.match(
    await revertOf(
      t,
      registerNode({
        ...signer,
        registry,
        url: "http://127.0.0.1:1",
        publicKey: rogue.toPublicKey().toBytes(),
        proofOfPossession: proofOfPossession(generateSecretKey(randomBytes(32))),
      }),
    ),
    /^InvalidProofOfPossession/,
  );
  t.match(
    await revertOf(
      t,
      registerNode({
        ...signer,
        registry,
        url: "http://127.0.0.1:1",
        secretKey: cluster.nodes[0]?.identity.secretKey as never,
      }),
    ),
    /^KeyAlreadyRegistered/,
  );
  t.match(
    await revertOf(t, registerNode({ ...signer, registry, url: "ftp://nowhere", secretKey: rogue })),
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
        args: [toHex(key), "http://127.0.0.1:1", pop],
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
  const offCurve = rogue.toPublicKey().toBytes(false);
  offCurve[95] = (offCurve[95] as number) ^ 1;
  t.match(await raw(offCurve), /^MalformedKey/, "a point off the curve");
  t.match(await raw(new Uint8Array(95)), /^MalformedKey/, "95 bytes");
  t.match(await raw(rogue.toPublicKey().toBytes(true)), /^MalformedKey/, "a compressed key");
  t.equal((await readRegistry({ rpcUrl: anvil.rpcUrl, registry })).length, 6, "nothing was registered");
});

t.test("a certificate made by real storage nodes is recorded after the on-chain BLS check", async (t) => {
  t.equal(checkCertificate(certificate, set, domain), null, "the certificate holds off chain");
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root }), false);
  const seen: Uint8Array[] = [];
  const stop = watchBatches({ rpcUrl: anvil.rpcUrl, inbox, pollingIntervalMs: 100 }, (b) => seen.push(b.root));
  const mined = await settleBatch({ ...signer, inbox, ...settlement });
  t.ok(mined.blockNumber > 0n);
  t.ok(mined.gasUsed > 100_000n && mined.gasUsed < 1_000_000n, `postBatch used ${mined.gasUsed} gas`);
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root }), true);
  t.same(await recordedBatch({ rpcUrl: anvil.rpcUrl, inbox, root }), {
    blobCount: posted.blobs.length,
    size: posted.size,
    blockNumber: mined.blockNumber,
    signers: signersOf(certificate.signerBitmap).length,
  });
  const events = await postedBatches({ rpcUrl: anvil.rpcUrl, inbox });
  t.same(
    events.map((e) => [toHex(e.root), e.blobCount, e.size, toHex(e.signerBitmap), e.txHash]),
    [[toHex(root), posted.blobs.length, posted.size, toHex(certificate.signerBitmap), mined.txHash]],
  );
  for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  stop();
  t.same(seen.map(toHex), [toHex(root)], "the watcher saw the batch");
  t.match(await revertOf(t, settleBatch({ ...signer, inbox, ...settlement })), /^BatchAlreadyRecorded/);
});

t.test("forged certificates revert with their reason", async (t) => {
  const keys = cluster.nodes.map((n) => n.identity.secretKey);
  const fresh = new Uint8Array(randomBytes(32));
  const sign = (indexes: number[], d: AttestationDomain = domain, r: Uint8Array = fresh): Certificate =>
    buildCertificate(r, new Map(indexes.map((i) => [i, signAttestation(keys[i] as never, d, r)])), 6);
  const post = (c: Certificate, r: Uint8Array = fresh) =>
    revertOf(t, settleBatch({ ...signer, inbox, root: r, blobCount: 1, size: 10, certificate: c }));

  const good = sign([0, 1, 2, 3]);
  const otherRoot = new Uint8Array(randomBytes(32));
  t.match(
    await post({ ...sign([0, 1, 2, 3], domain, otherRoot), root: fresh }),
    /^InvalidSignature/,
    "a signature over another root",
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
  // The same certificate, replayed to a second inbox over the same registry.
  const other = await deployContracts({ ...signer, registry });
  t.equal(other.registry, registry);
  t.match(
    await revertOf(
      t,
      settleBatch({ ...signer, inbox: other.inbox, root: fresh, blobCount: 1, size: 10, certificate: good }),
    ),
    /^InvalidSignature/,
    "replayed to another inbox",
  );
  // Signature bytes the TypeScript side would refuse before sending, sent raw.
  const raw = async (signature: Uint8Array) => {
    try {
      await publicClient(anvil.rpcUrl).simulateContract({
        address: inbox,
        abi: cellarInboxAbi,
        functionName: "postBatch",
        args: [toHex(fresh), 1n, 10n, toHex(good.signerBitmap), toHex(signature)],
        account: owner.address,
      });
      return "accepted";
    } catch (err) {
      return revertReason(err) ?? "no reason";
    }
  };
  const offCurve = uncompressedSignature(good.signature);
  offCurve[191] = (offCurve[191] as number) ^ 1;
  t.match(await raw(offCurve), /^MalformedSignature/, "a signature off the curve");
  t.match(await raw(good.signature), /^MalformedSignature/, "a compressed signature");
  const infinity = new Uint8Array(192);
  infinity[0] = 0x40;
  t.match(await raw(infinity), /^MalformedSignature/, "the infinity signature");
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: fresh }), false, "nothing forged was recorded");
  await settleBatch({ ...signer, inbox, root: fresh, blobCount: 1, size: 10, certificate: good });
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: fresh }), true, "the honest one is");
});

t.test("a KZG opening of a recorded batch's blob verifies through 0x0a; a wrong one reverts", async (t) => {
  const blobs = packBlobs(frameBatch(payload));
  const leaves = posted.blobs.map((b) => fromHex(b.versionedHash, 32));
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

t.test("a node that leaves keeps its index; its bit no longer counts", async (t) => {
  const left = 5;
  await deregisterNode({ ...signer, registry, index: left });
  const now = await readNodeSet({ rpcUrl: anvil.rpcUrl, registry });
  t.same(
    now.map((n) => n.index),
    [0, 1, 2, 3, 4],
  );
  const slots = await readRegistry({ rpcUrl: anvil.rpcUrl, registry });
  t.same(
    slots.map((s) => s.active),
    [true, true, true, true, true, false],
  );
  const keys = cluster.nodes.map((n) => n.identity.secretKey);
  const r = new Uint8Array(randomBytes(32));
  const cert = (indexes: number[]) =>
    buildCertificate(r, new Map(indexes.map((i) => [i, signAttestation(keys[i] as never, domain, r)])), 6);
  const post = (c: Certificate) => settleBatch({ ...signer, inbox, root: r, blobCount: 1, size: 1, certificate: c });
  t.match(await revertOf(t, post(cert([1, 2, 3, 5]))), /^UnknownSigner\(5\)/, "the leaver's bit");
  t.match(await revertOf(t, post(cert([1, 2, 3]))), /^QuorumNotReached\(3, 4\)/, "quorum of five active is four");
  t.match(
    await revertOf(t, deregisterNode({ ...signer, registry, index: left })),
    /^NodeNotActive\(5\)/,
    "leaving twice",
  );
  const stranger = { rpcUrl: anvil.rpcUrl, privateKey: (anvil.accounts[1] as Anvil["accounts"][number]).privateKey };
  t.match(await revertOf(t, deregisterNode({ ...stranger, registry, index: 0 })), /^NotOperator\(0, /);
  const mined = await post(cert([0, 2, 3, 4]));
  t.ok(mined.blockNumber > 0n, "four of the five active nodes certify (the non-signer's key is subtracted)");
});

t.test("an operator changes its node's URL; a quorum above one is refused at deployment", async (t) => {
  const { publicClient: client, cellarRegistryAbi: abi } = { publicClient, cellarRegistryAbi };
  const { createWalletClient, http } = await import("viem");
  const { privateKeyToAccount } = await import("viem/accounts");
  const wallet = createWalletClient({ account: privateKeyToAccount(owner.privateKey), transport: http(anvil.rpcUrl) });
  const hash = await wallet.writeContract({
    address: registry,
    abi,
    functionName: "setUrl",
    args: [1n, "https://node-1.example:7100"],
    chain: null,
  });
  await client(anvil.rpcUrl).waitForTransactionReceipt({ hash });
  const slots = await readRegistry({ rpcUrl: anvil.rpcUrl, registry });
  t.equal(slots[1]?.url, "https://node-1.example:7100");
  await t.rejects(
    deployContracts({ ...signer, registry, quorumNumerator: 3, quorumDenominator: 2 }),
    { code: "CELLAR_ERR_L1_REVERTED", message: /InvalidQuorum\(\)/ },
    "a quorum of 3/2 cannot be met",
  );
});

t.test("anvil does not outlive a process that dies of an uncaught error", async (t) => {
  const { execFile } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const script = fileURLToPath(new URL("../../../test/fixtures/anvil-crash.mjs", import.meta.url));
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = execFile(process.execPath, [script], () => {});
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("exit", (c) => resolve({ code: c, stdout: out }));
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
