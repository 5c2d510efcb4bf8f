// Economic attacks on the L1 contracts, on a real anvil: Sybil registrations without stake, key
// squatting with a replayed proof of possession, front-running `postBatch` with the honest
// certificate and wrong metadata, certificates replayed across batch, chain, inbox and registry
// snapshot, expired certificates; then fast-check inputs the TypeScript side never sends
// (malformed points, bitmaps, non-signer keys, checkpoint hints, keys and proofs). Accepted: 0,
// and the honest call still goes through.
import { randomBytes, randomInt } from "node:crypto";
import { rootPreimage } from "@cellar/codec";
import {
  type Anvil,
  bitmapToUint,
  cellarInboxAbi,
  cellarRegistryAbi,
  deployContracts,
  isRecorded,
  L1Error,
  latestBlock,
  operatorOf,
  publicClient,
  readNodeSet,
  registerNode,
  revertReason,
  settleBatch,
  startAnvil,
  uncompressedPublicKey,
  uncompressedSignature,
} from "@cellar/l1";
import {
  type AttestationDomain,
  buildCertificate,
  type Certificate,
  generateSecretKey,
  proofOfPossession,
  signAttestation,
} from "@cellar/protocol";
import { figure, rounds } from "@cellar/test-utils/reliability";
import { fromHex, toHex } from "@cellar/utils";
import { keccak_256 } from "@noble/hashes/sha3";
import fc from "fast-check";
import t from "tap";

const anvil: Anvil = await startAnvil();
t.teardown(() => anvil.stop());
const account = (i: number) => anvil.accounts[i] as Anvil["accounts"][number];
const owner = { rpcUrl: anvil.rpcUrl, privateKey: account(0).privateKey };
const attacker = { rpcUrl: anvil.rpcUrl, privateKey: account(1).privateKey };
const client = publicClient(anvil.rpcUrl);
const { registry, inbox, chainId } = await deployContracts({ ...owner, minimumStake: 10n, referenceWindow: 20 });
const domain: AttestationDomain = { chainId, inbox: fromHex(inbox, 20) };
const keys = Array.from({ length: 4 }, () => generateSecretKey(new Uint8Array(randomBytes(32))));
for (const [i, secretKey] of keys.entries())
  await registerNode({ ...owner, registry, url: `http://127.0.0.1:${20_000 + i}`, secretKey, stake: 10n });
const set = await readNodeSet({ rpcUrl: anvil.rpcUrl, registry });

/** The contract errors the chain refused calls with, by name, since the last `takeReverts()`. */
let reverts = new Map<string, number>();
const takeReverts = () => {
  const seen = [...reverts].map(([name, k]) => `${k} × ${name}`).join(", ");
  reverts = new Map();
  return seen;
};

/**
 * 1 if the call went through, 0 if the chain refused it: a revert, with the contract's error
 * (viem's `ContractFunctionRevertedError`, or the L1 package's `CELLAR_ERR_L1_REVERTED` around
 * it). Any other failure (a refusal before the call was sent, a transport error) is not a
 * refusal by the contracts and fails the test.
 */
async function accepted(work: Promise<unknown>): Promise<number> {
  try {
    await work;
    return 1;
  } catch (err) {
    const reason =
      err instanceof L1Error
        ? err.code === "CELLAR_ERR_L1_REVERTED"
          ? String(err.context.reason)
          : null
        : revertReason(err);
    if (reason === null) throw err;
    const name = reason.replace(/\(.*$/s, "");
    reverts.set(name, (reverts.get(name) ?? 0) + 1);
    return 0;
  }
}

function batch() {
  const blobsRoot = new Uint8Array(randomBytes(32));
  const size = 1 + randomInt(100_000);
  return { root: keccak_256(rootPreimage(blobsRoot, 1, size)), blobsRoot, blobCount: 1, size };
}

function certify(
  root: Uint8Array,
  reference: bigint,
  d: AttestationDomain = domain,
  signers = [0, 1, 2, 3],
): Certificate {
  return buildCertificate(
    root,
    new Map(signers.map((i) => [i, signAttestation(keys[i] as (typeof keys)[0], d, root, reference)])),
    8,
    reference,
  );
}

const tally: { attack: string; tries: number; accepted: number; reverts: string; unexpected: string[] }[] = [];
/**
 * Runs one attack `tries` times. Every refusal must be a revert with one of the `expected`
 * contract errors: a refusal for another reason (an expired reference, say) is not this attack
 * being stopped.
 */
async function attack(name: string, expected: readonly string[], tries: number, one: (i: number) => Promise<number>) {
  let n = 0;
  takeReverts();
  for (let i = 0; i < tries; i++) n += await one(i);
  const seen = [...reverts.keys()];
  const unexpected = seen.filter((r) => !expected.includes(r));
  tally.push({ attack: name, tries, accepted: n, reverts: takeReverts(), unexpected });
}

t.test("economic attacks on the registry and the inbox: accepted 0", async (t) => {
  const n = rounds("l1_attacks", 3, 50);
  const url = "http://127.0.0.1:1";
  await attack("Sybil registration below the minimum stake", ["StakeTooLow"], n, (i) =>
    accepted(
      registerNode({
        ...attacker,
        registry,
        url,
        secretKey: generateSecretKey(new Uint8Array(randomBytes(32))),
        stake: BigInt(i % 10),
      }),
    ),
  );
  const squatting = "key squatting: an honest operator's proof of possession replayed by another account";
  await attack(squatting, ["InvalidProofOfPossession"], n, async () => {
    const key = generateSecretKey(new Uint8Array(randomBytes(32)));
    const honest = proofOfPossession(key, {
      operator: operatorOf(account(2).privateKey),
      chainId,
      registry: fromHex(registry, 20),
    });
    return accepted(
      registerNode({
        ...attacker,
        registry,
        url,
        publicKey: key.toPublicKey().toBytes(),
        proofOfPossession: honest,
        stake: 10n,
      }),
    );
  });
  // Each attempt certifies under the latest block: a reference past the window would be refused
  // as expired, whatever the attack.
  const fresh = () => latestBlock(owner);
  await attack(
    "front-running postBatch: the honest certificate with another size, count or blobs root",
    ["RootMismatch"],
    n,
    async (i) => {
      const b = batch();
      const cert = certify(b.root, await fresh());
      const wrong = [{ size: b.size + 1 }, { blobCount: 2 }, { blobsRoot: new Uint8Array(randomBytes(32)) }][i % 3];
      const n = await accepted(settleBatch({ ...attacker, inbox, ...b, ...wrong, certificate: cert }));
      t.equal(
        await accepted(settleBatch({ ...owner, inbox, ...b, certificate: cert })),
        1,
        "the honest post still records",
      );
      return n;
    },
  );
  await attack("an attestation replayed for another batch", ["InvalidSignature"], n, async () => {
    const [a, b] = [batch(), batch()];
    return accepted(
      settleBatch({ ...attacker, inbox, ...b, certificate: { ...certify(a.root, await fresh()), root: b.root } }),
    );
  });
  await attack("a certificate made for another chain", ["InvalidSignature"], n, async () => {
    const b = batch();
    return accepted(
      settleBatch({
        ...attacker,
        inbox,
        ...b,
        certificate: certify(b.root, await fresh(), { ...domain, chainId: chainId + 1n }),
      }),
    );
  });
  const other = await deployContracts({ ...owner, registry, referenceWindow: 20 });
  await attack("a certificate made for another inbox", ["InvalidSignature"], n, async () => {
    const b = batch();
    return accepted(
      settleBatch({ ...attacker, inbox: other.inbox, ...b, certificate: certify(b.root, await fresh()) }),
    );
  });
  // Signed under one block, presented under an earlier one: the signature (over the reference)
  // fails, or the signers are not in that snapshot yet.
  const moved = "a certificate moved to another registry snapshot (reference block)";
  await attack(moved, ["InvalidSignature", "UnknownSigner"], n, async (i) => {
    const b = batch();
    const reference = await fresh();
    const cert = certify(b.root, reference);
    return accepted(
      settleBatch({ ...attacker, inbox, ...b, certificate: { ...cert, reference: reference - 1n - BigInt(i % 2) } }),
    );
  });
  await attack("an expired certificate (reference past the window)", ["CertificateExpired"], n, async () => {
    const b = batch();
    const old = await latestBlock(owner);
    const cert = certify(b.root, old);
    await client.request({ method: "anvil_mine" as never, params: ["0x16"] as never });
    return accepted(settleBatch({ ...attacker, inbox, ...b, certificate: cert }));
  });
  for (const a of tally) {
    t.equal(a.accepted, 0, `${a.attack}: ${a.accepted}/${a.tries} accepted; reverted with ${a.reverts}`);
    t.same(a.unexpected, [], `${a.attack}: refused only for the reason the attack should meet`);
    figure(t, {
      area: "L1",
      guarantee: "economic attacks accepted 0",
      attack: a.attack,
      count: a.tries,
      observed: `${a.accepted} accepted; reverted: ${a.reverts}`,
      bound: "0",
    });
  }
});

t.test("fast-check: malformed points, bitmaps, keys and proofs sent raw to the contracts", async (t) => {
  const n = rounds("l1_fuzz", 40, 2000);
  const reference = await latestBlock(owner);
  const b = batch();
  const good = certify(b.root, reference, domain, [0, 1, 2]);
  const [hint] = await client.readContract({
    address: registry,
    abi: cellarRegistryAbi,
    functionName: "checkpointAt",
    args: [reference],
  });
  const honest = {
    signature: uncompressedSignature(good.signature),
    bitmap: bitmapToUint(good.signerBitmap),
    nonSigners: uncompressedPublicKey(set[3]?.publicKey as Uint8Array),
    hint,
  };
  const post = (p: typeof honest) =>
    client.simulateContract({
      address: inbox,
      abi: cellarInboxAbi,
      functionName: "postBatch",
      args: [
        toHex(b.root),
        toHex(b.blobsRoot),
        1n,
        BigInt(b.size),
        {
          referenceBlock: reference,
          checkpointHint: p.hint,
          signerBitmap: p.bitmap,
          signature: toHex(p.signature),
          nonSignerKeys: toHex(p.nonSigners),
        },
      ],
      account: account(0).address,
      blockTag: "pending",
    });
  t.equal(await accepted(post(honest)), 1, "the honest call, raw, is accepted");
  const mutate = (bytes: Uint8Array, at: number, v: number) =>
    Uint8Array.from(bytes, (x, i) => (i === at % bytes.length ? x ^ (v || 1) : x));
  const inputs = fc.sample(
    fc.oneof(
      fc
        .tuple(fc.nat(), fc.integer({ min: 1, max: 255 }))
        .map(([at, v]) => ({ ...honest, signature: mutate(honest.signature, at, v) })),
      fc.uint8Array({ maxLength: 300 }).map((s) => ({ ...honest, signature: s })),
      fc
        .bigInt({ min: 0n, max: (1n << 16n) - 1n })
        .filter((x) => x !== honest.bitmap)
        .map((x) => ({ ...honest, bitmap: x })),
      fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }).map((x) => ({ ...honest, bitmap: x })),
      fc
        .tuple(fc.nat(), fc.integer({ min: 1, max: 255 }))
        .map(([at, v]) => ({ ...honest, nonSigners: mutate(honest.nonSigners, at, v) })),
      fc.uint8Array({ maxLength: 400 }).map((k) => ({ ...honest, nonSigners: k })),
      fc
        .bigInt({ min: 0n, max: (1n << 64n) - 1n })
        .filter((h) => h !== honest.hint)
        .map((h) => ({ ...honest, hint: h })),
    ),
    n,
  );
  let inboxAccepted = 0;
  takeReverts();
  for (const p of inputs) inboxAccepted += await accepted(post(p));
  const inboxReverts = takeReverts();
  const registerRaw = (key: Uint8Array, pop: Uint8Array) =>
    client.simulateContract({
      address: registry,
      abi: cellarRegistryAbi,
      functionName: "register",
      args: [toHex(key), "http://127.0.0.1:1", toHex(pop)],
      value: 10n,
      account: account(1).address,
    });
  const fresh = generateSecretKey(new Uint8Array(randomBytes(32)));
  const freshKey = fresh.toPublicKey().toBytes(false);
  const freshPop = proofOfPossession(fresh, {
    operator: operatorOf(account(1).privateKey),
    chainId,
    registry: fromHex(registry, 20),
  });
  const regInputs = fc.sample(
    fc.oneof(
      fc
        .tuple(fc.nat(), fc.integer({ min: 1, max: 255 }))
        .map(([at, v]) => [mutate(freshKey, at, v), freshPop] as const),
      fc
        .tuple(fc.nat(), fc.integer({ min: 1, max: 255 }))
        .map(([at, v]) => [freshKey, mutate(freshPop, at, v)] as const),
      fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 })).map(([k, p]) => [k, p] as const),
    ),
    n,
  );
  let registryAccepted = 0;
  for (const [k, p] of regInputs) registryAccepted += await accepted(registerRaw(k, p));
  const registryReverts = takeReverts();
  t.equal(inboxAccepted, 0, `postBatch: ${inboxAccepted}/${n} malformed calls accepted; reverted with ${inboxReverts}`);
  t.equal(
    registryAccepted,
    0,
    `register: ${registryAccepted}/${n} malformed calls accepted; reverted with ${registryReverts}`,
  );
  t.equal(await accepted(post(honest)), 1, "the honest call is still accepted after");
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: b.root }), false, "simulated only: nothing recorded");
  figure(t, {
    area: "L1",
    guarantee: "malformed contract inputs accepted 0",
    attack: "postBatch: mutated and random signatures (points), bitmaps, non-signer keys, checkpoint hints",
    count: n,
    observed: `${inboxAccepted} accepted; reverted: ${inboxReverts}`,
    bound: "0",
  });
  figure(t, {
    area: "L1",
    guarantee: "malformed contract inputs accepted 0",
    attack: "register: mutated and random keys and proofs of possession",
    count: n,
    observed: `${registryAccepted} accepted; reverted: ${registryReverts}`,
    bound: "0",
  });
});
