// Who holds a stored batch's columns after churn (PROTOCOL.md §10.1): originals from the batch's
// snapshot, stand-ins from the current set in each column's rendezvous order.
import {
  buildNodeSet,
  custodyScore,
  custodyTable,
  generateSecretKey,
  holdersTable,
  type NodeRecord,
  readOrder,
  rendezvousOrder,
  responsibleColumns,
} from "@cellar/protocol";
import t from "tap";

const keys = Array.from({ length: 10 }, (_, i) => generateSecretKey(new Uint8Array(32).fill(i + 1)));
const all = buildNodeSet(
  keys.map((k, i) => ({ publicKey: k.toPublicKey().toBytes(), url: `http://127.0.0.1:${7000 + i}` })),
);
const snapshot = all.slice(0, 8);
const ids = (nodes: readonly NodeRecord[]) => nodes.map((n) => n.index);

t.test("with nobody gone the holders are the custody table and there are no stand-ins", async (t) => {
  const table = holdersTable({ snapshot });
  const custody = custodyTable(snapshot, 2);
  for (const h of table) {
    t.same(ids(h.originals), ids(custody[h.column] ?? []));
    t.same(h.standIns, []);
    t.same(h.gone, []);
  }
});

t.test("rendezvous order sorts every node by its score for the column", async (t) => {
  const order = rendezvousOrder(all);
  t.equal(order.length, 128);
  for (const c of [0, 17, 127]) {
    const scores = (order[c] ?? []).map((n) => custodyScore(n.nodeId, c));
    for (let i = 1; i < scores.length; i++) t.ok(Buffer.compare(scores[i - 1] as Buffer, scores[i] as Buffer) > 0);
  }
  t.equal(rendezvousOrder(all), order, "cached per node-set array");
});

t.test("a custodian that left is replaced by the next live node in rendezvous order", async (t) => {
  const leaver = snapshot[3] as NodeRecord;
  // Node 3 left; nodes 8 and 9 joined.
  const current = all.filter((n) => n.index !== 3);
  const table = holdersTable({ snapshot, current });
  const order = rendezvousOrder(current);
  let replaced = 0;
  for (const h of table) {
    const held = h.originals.some((o) => o.index === 3);
    if (!held) {
      t.same(h.standIns, [], `column ${h.column} keeps its custodians`);
      continue;
    }
    replaced++;
    t.same(h.gone, [3]);
    t.equal(h.standIns.length, 1);
    const expected = (order[h.column] ?? []).find((n) => !h.originals.some((o) => o.index === n.index));
    t.equal(h.standIns[0]?.index, expected?.index, `column ${h.column}: the first non-custodian in rendezvous order`);
  }
  t.ok(replaced > 0, "the leaver had columns");
  t.same(responsibleColumns({ snapshot, current }, leaver.nodeId), [], "a node that left is responsible for nothing");
});

t.test("an unresponsive custodian is gone by the caller's judgement, and stand-ins skip gone nodes", async (t) => {
  const down = new Set([0, 1]);
  const table = holdersTable({ snapshot, current: all, isGone: (n) => down.has(n.index) });
  for (const h of table) {
    const live = h.originals.filter((o) => !down.has(o.index)).length;
    t.equal(live + h.standIns.length, Math.max(2, live), `column ${h.column} has 2 live holders`);
    t.notOk(h.standIns.some((n) => down.has(n.index)));
  }
  // Every column is someone's responsibility, at least twice over.
  const duty = new Map<number, number>();
  for (const n of all) {
    if (down.has(n.index)) continue;
    for (const c of responsibleColumns({ snapshot, current: all, isGone: (x) => down.has(x.index) }, n.nodeId))
      duty.set(c, (duty.get(c) ?? 0) + 1);
  }
  t.equal(duty.size, 128);
  t.ok([...duty.values()].every((k) => k >= 2));
});

t.test("readers ask the originals, then the stand-ins and spares; an original's current URL is used", async (t) => {
  const moved = buildNodeSet(
    all.map((n) => ({ publicKey: n.publicKey, url: n.index === 2 ? "http://127.0.0.1:9999" : n.url, index: n.index })),
  );
  const order = readOrder({ snapshot, current: moved, spares: 2 });
  const table = custodyTable(snapshot, 2);
  for (const [c, nodes] of order.entries()) {
    const originals = table[c] ?? [];
    t.same(ids(nodes.slice(0, originals.length)), ids(originals), `column ${c}: originals first`);
    t.equal(nodes.length, originals.length + 2, "two spares");
    for (const n of nodes) if (n.index === 2) t.equal(n.url, "http://127.0.0.1:9999");
  }
});

t.test("when too few nodes are left the column has as many holders as there are live nodes", async (t) => {
  const current = all.slice(0, 2);
  for (const h of holdersTable({ snapshot, current, replication: 3 })) {
    const live = h.originals.filter((o) => o.index < 2).length;
    t.equal(live + h.standIns.length, 2, `column ${h.column}`);
  }
});
