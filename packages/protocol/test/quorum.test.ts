// Stake-weighted quorum, certificate expiry and snapshot sources, and the custody rule that gives
// every node of a set at least one column: 256 nodes (the registry's largest size) sign, aggregate
// and are checked end to end off chain.
import { randomBytes } from "node:crypto";
import {
  buildCertificate,
  buildNodeSet,
  checkCertificate,
  coveredColumns,
  custodyColumns,
  custodyTable,
  generateSecretKey,
  meetsQuorum,
  quorumFraction,
  quorumSize,
  requiredStake,
  type SecretKey,
  signAttestation,
  signedStake,
  staticSnapshots,
  totalStake,
} from "@cellar/protocol";
import t from "tap";

const domain = { chainId: 31337n, inbox: new Uint8Array(20).fill(1) };
const makeSet = (keys: SecretKey[], stakes?: bigint[]) =>
  buildNodeSet(
    keys.map((k, i) => ({
      publicKey: k.toPublicKey().toBytes(),
      url: `http://127.0.0.1:${7000 + i}`,
      stake: stakes?.[i],
    })),
  );
const certify = (keys: SecretKey[], indexes: number[], root: Uint8Array, reference: bigint, slots: number) =>
  buildCertificate(
    root,
    new Map(indexes.map((i) => [i, signAttestation(keys[i] as SecretKey, domain, root, reference)])),
    slots,
    reference,
  );

t.test("quorum fractions and required stake match the inbox's rule", async (t) => {
  t.same(quorumFraction(), { numerator: 2n, denominator: 3n });
  t.same(quorumFraction(0.75), { numerator: 3n, denominator: 4n });
  t.same(quorumFraction(1), { numerator: 1n, denominator: 1n });
  t.same(quorumFraction(Math.PI / 4).denominator, 1_000_000_000n, "no small fraction: nine digits");
  t.throws(() => quorumFraction(0), { code: "CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE" });
  t.throws(() => quorumFraction(1.5), { code: "CELLAR_ERR_PROTOCOL_INVALID_CERTIFICATE" });
  t.equal(requiredStake(15n), 10n);
  t.equal(requiredStake(16n), 11n, "ceil(32 / 3)");
  t.equal(requiredStake(3n * 10n ** 18n), 2n * 10n ** 18n);
  t.equal(quorumSize(6), 4);
  t.equal(quorumSize(64), 43);
  t.equal(quorumSize(0), 1, "at least one signer");
});

t.test("one big node against many small ones", async (t) => {
  const keys = Array.from({ length: 6 }, () => generateSecretKey(randomBytes(32)));
  const set = makeSet(keys, [10n, 1n, 1n, 1n, 1n, 1n]);
  t.equal(totalStake(set), 15n);
  t.equal(signedStake(set, [1, 2, 3, 4, 5]), 5n);
  t.notOk(meetsQuorum(set, [1, 2, 3, 4, 5]), "five small nodes of six hold a third of the stake");
  t.ok(meetsQuorum(set, [0, 1, 2]), "the big node with two small ones");
  const root = new Uint8Array(randomBytes(32));
  t.match(
    checkCertificate(certify(keys, [1, 2, 3, 4, 5], root, 9n, 6), set, domain),
    /hold 5 of the stake, quorum is 10/,
  );
  t.equal(checkCertificate(certify(keys, [0, 1, 2], root, 9n, 6), set, domain), null);
  t.equal(
    checkCertificate({ ...certify(keys, [0, 1, 2], root, 9n, 6), reference: 8n }, set, domain),
    "the aggregate signature does not verify",
    "the reference is signed",
  );
  t.throws(() => makeSet(keys, [0n]), { code: "CELLAR_ERR_PROTOCOL_INVALID_NODE_SET" }, "no zero stake");
});

t.test("certificates expire: a reference older than the window, or in the future, is refused", async (t) => {
  const keys = Array.from({ length: 3 }, () => generateSecretKey(randomBytes(32)));
  const set = makeSet(keys);
  const c = certify(keys, [0, 1, 2], new Uint8Array(randomBytes(32)), 100n, 3);
  t.equal(checkCertificate(c, set, domain, { head: 100n, window: 10n }), null, "fresh");
  t.equal(checkCertificate(c, set, domain, { head: 109n, window: 10n }), null, "the last block it can be posted in");
  t.match(checkCertificate(c, set, domain, { head: 110n, window: 10n }) ?? "", /expired/);
  t.match(checkCertificate(c, set, domain, { head: 99n }) ?? "", /after the latest block/);
  const source = staticSnapshots(() => set);
  t.equal(await source.latest(), 0n);
  t.equal(await source.nodesAt(5n), set);
});

t.test("every node of a 256-node set custodies a column; all sign, and a bare quorum certifies", async (t) => {
  const keys = Array.from({ length: 256 }, () => generateSecretKey(randomBytes(32)));
  const set = makeSet(keys);
  const table = custodyTable(set);
  const holders = new Set(table.flat().map((n) => n.index));
  t.equal(holders.size, 256, "no node is left without a column");
  for (const [c, h] of table.entries()) t.ok(h.length >= 2, `column ${c} has at least two custodians`);
  t.ok(
    set.every((n) => custodyColumns(set, n.nodeId).length >= 1),
    "custodyColumns agrees",
  );
  // With plain rendezvous about a third of 256 nodes would keep nothing; the extra holders are few.
  const extra = table.reduce((n, h) => n + h.length - 2, 0);
  t.ok(extra > 0 && extra < 256, `${extra} nodes keep their best column on top of the two custodians`);
  const root = new Uint8Array(randomBytes(32));
  const all = certify(
    keys,
    set.map((n) => n.index),
    root,
    1234n,
    256,
  );
  t.equal(all.signerBitmap.length, 32);
  t.equal(checkCertificate(all, set, domain), null, "all 256 sign");
  const q = quorumSize(256);
  const bare = certify(
    keys,
    Array.from({ length: q }, (_, i) => i),
    root,
    1234n,
    256,
  );
  t.equal(checkCertificate(bare, set, domain), null, `a bare quorum of ${q} certifies`);
  t.ok(
    coveredColumns(
      set,
      Array.from({ length: q }, (_, i) => i),
    ) >= 64,
  );
  t.match(
    checkCertificate(
      certify(
        keys,
        Array.from({ length: q - 1 }, (_, i) => i),
        root,
        1234n,
        256,
      ),
      set,
      domain,
    ) ?? "",
    /quorum is 171/,
  );
});

t.test("checkCertificate refuses an unknown signer, a stake below quorum and too few columns", async (t) => {
  // Fixed keys: the custody table, and so the columns each signer keeps, are the same every run.
  const keys = Array.from({ length: 7 }, (_, i) => generateSecretKey(new Uint8Array(32).fill(i + 1)));
  const root = new Uint8Array(32).fill(0x5e);
  const set = makeSet(keys.slice(0, 6), [10n, 1n, 1n, 1n, 1n, 1n]);
  t.equal(checkCertificate(certify(keys, [0, 1, 2, 3, 4, 5], root, 3n, 6), set, domain), null, "all six: it holds");

  // Key 6 signs as index 6, which the set does not have.
  t.equal(
    checkCertificate(certify(keys, [0, 1, 2, 3, 4, 5, 6], root, 3n, 7), set, domain),
    "a signer index is not in the node set",
  );
  t.equal(
    checkCertificate(certify(keys, [1, 2, 3, 4, 5], root, 3n, 6), set, domain),
    "signers hold 5 of the stake, quorum is 10",
    "every small node: 5 of 15, below two thirds",
  );
  // The big node alone holds the quorum (10 of 15) but keeps only its own share of the columns.
  const own = custodyColumns(set, (set[0] as (typeof set)[number]).nodeId).length;
  t.ok(own < 64, `the big node keeps ${own} columns`);
  t.equal(
    checkCertificate(certify(keys, [0], root, 3n, 6), set, domain),
    "the signers keep fewer than 64 distinct columns",
  );
  t.equal(meetsQuorum(set, [0]), false, "and meetsQuorum agrees");
});
