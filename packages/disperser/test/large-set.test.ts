// The registry's largest size end to end off chain: a real batch encoded with KZG, dispersed by
// `disperse` to 256 nodes, each checking that it got exactly its custody columns under the
// snapshot's reference (and the cells against their commitments) before it signs; the certificate
// is judged by `checkCertificate` against that snapshot, at every node signing and at a bare quorum.
import { randomBytes } from "node:crypto";
import type { DispersalResult, NodeClient } from "@cellar/client";
import { type BatchManifest, type Column, encodeBatch, verifyColumns } from "@cellar/codec";
import { disperse } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import {
  type AttestationDomain,
  buildNodeSet,
  checkCertificate,
  custodyColumns,
  generateSecretKey,
  type NodeRecord,
  quorumSize,
  signAttestation,
  signersOf,
} from "@cellar/protocol";
import t from "tap";

const kzg = sharedKzg();
const domain: AttestationDomain = { chainId: 31337n, inbox: new Uint8Array(20).fill(3) };
const keys = Array.from({ length: 256 }, () => generateSecretKey(randomBytes(32)));
const set = buildNodeSet(keys.map((k, i) => ({ publicKey: k.toPublicKey().toBytes(), url: `http://node-${i}.test` })));
const batch = await encodeBatch(new Uint8Array(randomBytes(20_000)), { kzg });
const REFERENCE = 4242n;

/** 256 in-process nodes behind the NodeClient interface: each verifies, then signs at the reference. */
function nodes(online: (index: number) => boolean): NodeClient {
  return {
    async disperse(
      node: NodeRecord,
      manifest: BatchManifest,
      columns: readonly Column[],
      d: AttestationDomain,
      options: { reference?: bigint } = {},
    ): Promise<DispersalResult> {
      if (!online(node.index)) return { ok: false, node, reason: "unreachable" };
      const expected = custodyColumns(set, node.nodeId);
      if (JSON.stringify(columns.map((c) => c.index)) !== JSON.stringify(expected))
        return { ok: false, node, reason: "status-403" };
      if ((await verifyColumns(manifest, [...columns], { kzg })).length > 0)
        return { ok: false, node, reason: "status-422" };
      const key = keys[node.index] as (typeof keys)[number];
      return { ok: true, node, signature: signAttestation(key, d, manifest.root, options.reference ?? 0n) };
    },
  } as unknown as NodeClient;
}

const options = (client: NodeClient) => ({
  nodes: set,
  reference: REFERENCE,
  replication: 2,
  domain,
  client,
  quorum: 2 / 3,
  concurrency: 32,
  // Waits for every node (the race ends when all have answered): the certificate names them all.
  lingerMs: 60_000,
  deadlineMs: 120_000,
});

t.test("256 nodes: every node custodies a column, signs, and the certificate holds", async (t) => {
  t.ok(
    set.every((n) => custodyColumns(set, n.nodeId).length > 0),
    "no node of 256 is without a column",
  );
  const all = await disperse(batch, options(nodes(() => true)));
  await all.settled;
  t.equal(all.results.filter((r) => r.ok).length, 256, "every node verified its columns and signed");
  t.equal(signersOf(all.certificate.signerBitmap).length, 256, "all 256 in the certificate");
  t.equal(all.certificate.reference, REFERENCE);
  t.equal(checkCertificate(all.certificate, set, domain), null, "the certificate holds against the snapshot");
});

t.test("256 nodes: a bare quorum certifies, one node fewer does not", async (t) => {
  const q = quorumSize(256);
  const bare = await disperse(batch, options(nodes((i) => i < q)));
  await bare.settled;
  t.equal(signersOf(bare.certificate.signerBitmap).length, q);
  t.equal(checkCertificate(bare.certificate, set, domain), null, `${q} of 256 certify`);
  await t.rejects(disperse(batch, options(nodes((i) => i < q - 1))), { code: "CELLAR_ERR_DISPERSER_NO_QUORUM" });
});
