// The CLI against a real L1: storage nodes, a disperser and a light node that read their node set
// from the registry on anvil (each a `cellar` child process), `cellar settle` posting a certified
// batch to the inbox, `cellar sample` trusting only roots the inbox recorded, and the light node
// sampling every batch it sees recorded on L1.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { disperserKeys } from "@cellar/cli";
import { blobsRoot } from "@cellar/codec";
import {
  type Anvil,
  deployContracts,
  isRecorded,
  latestBlock,
  publicClient,
  readParameters,
  registerDisperser,
  registerNode,
  settleBatch,
  startAnvil,
} from "@cellar/l1";
import { createKeyFile, readKeyFile } from "@cellar/node";
import { buildCertificate, signAttestation } from "@cellar/protocol";
import { fromHex, toHex } from "@cellar/utils";
import t from "tap";
import { request } from "undici";
import { runCli } from "./helpers/cli.js";
import { type NodeProcess, startServerProcess } from "./helpers/node-process.js";

const dir = mkdtempSync(join(tmpdir(), "cellar-l1-cli-"));
const anvil: Anvil = await startAnvil();
const children: NodeProcess[] = [];
t.teardown(async () => {
  for (const c of children) c.child.kill("SIGKILL");
  await anvil.stop();
  rmSync(dir, { recursive: true, force: true });
});
const privateKey = (anvil.accounts[0] as Anvil["accounts"][number]).privateKey;
const { registry, inbox, chainId } = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey });
const l1 = ["--rpc", anvil.rpcUrl, "--registry", registry, "--chain-id", String(chainId), "--inbox", inbox];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Four nodes: keys made first, registered on L1 with the URL each will listen on, then started.
for (let i = 0; i < 4; i++) {
  const data = join(dir, `node${i}`);
  const identity = await createKeyFile(join(dir, `node${i}.key`));
  const port = await freePort();
  await registerNode({
    rpcUrl: anvil.rpcUrl,
    privateKey,
    registry,
    url: `http://127.0.0.1:${port}`,
    secretKey: identity.secretKey,
  });
  children.push(
    await startServerProcess("node", [
      "--data",
      data,
      "--key",
      join(dir, `node${i}.key`),
      "--port",
      String(port),
      ...l1,
    ]),
  );
}
const light = await startServerProcess("light", [...l1, "--interval", "1"]);
children.push(light);
const disperser = await startServerProcess("disperser", l1);
children.push(disperser);

const payload = new Uint8Array(randomBytes(300_000));
writeFileSync(join(dir, "batch.bin"), payload);

t.test("nodes and the disperser take the node set from the registry; post is certified", async (t) => {
  t.equal(disperser.ready.nodes, 4, "the disperser read four nodes from L1");
  t.ok(
    children.slice(0, 4).every((c) => c.ready.custody > 0),
    "every node computed its custody from the registry",
  );
});

t.test("cellar settle posts the certificate; the inbox records it; again is a no-op", async (t) => {
  const posted = await runCli(["post", join(dir, "batch.bin"), "--disperser", disperser.url, "--json"]);
  t.equal(posted.code, 0, posted.stderr);
  const batch = JSON.parse(posted.stdout) as { id: string; root: string; status: string };
  t.equal(batch.status, "certified");

  const unsettled = await runCli(["sample", batch.id, ...l1]);
  t.equal(unsettled.code, 1, "a root the inbox has not recorded is not trusted");
  t.match(unsettled.stderr, /has not recorded batch .*\[CELLAR_ERR_LIGHT_UNTRUSTED_ROOT\]/);

  const args = ["settle", batch.id, "--disperser", disperser.url, "--rpc", anvil.rpcUrl, "--inbox", inbox];
  const missingKey = await runCli(args);
  t.equal(missingKey.code, 2, "no --private-key: a usage error");
  t.match(missingKey.stderr, /--private-key/);

  const settled = await runCli([...args, "--private-key", privateKey, "--json"]);
  t.equal(settled.code, 0, settled.stderr);
  const out = JSON.parse(settled.stdout) as { txHash: string; blockNumber: number; alreadyRecorded: boolean };
  t.match(out, { txHash: /^0x[0-9a-f]{64}$/, alreadyRecorded: false });
  t.ok(out.blockNumber > 0);
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: fromHex(batch.root, 32) }), true);

  const again = await runCli([...args, "--private-key", privateKey, "--json"]);
  t.equal(again.code, 0, again.stderr);
  t.match(JSON.parse(again.stdout), { txHash: out.txHash, blockNumber: out.blockNumber, alreadyRecorded: true });

  const human = await runCli([...args, "--private-key", privateKey]);
  t.match(human.stdout, /already settled: batch /);

  const sampled = await runCli(["sample", batch.id, ...l1, "--json"]);
  t.equal(sampled.code, 0, sampled.stderr);
  t.match(JSON.parse(sampled.stdout), { available: true });

  // The light node is not told by the disperser: it learns the batch from the inbox event alone.
  let availability: { status?: string } = {};
  for (let i = 0; i < 100 && availability.status !== "available"; i++) {
    const res = await request(`${light.url}/v1/batches/${batch.id}/availability`);
    availability = (await res.body.json()) as { status?: string };
    if (availability.status !== "available") await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(availability.status, "available", "the light node sampled the settled batch");
});

t.test("cellar settle reports a batch recorded under another certificate as a mismatch", async (t) => {
  writeFileSync(join(dir, "other.bin"), randomBytes(1000));
  const posted = await runCli(["post", join(dir, "other.bin"), "--disperser", disperser.url, "--json"]);
  const batch = JSON.parse(posted.stdout) as {
    id: string;
    root: string;
    size: number;
    blobs: { versionedHash: string }[];
    certificate: { reference: string };
  };
  // Someone else records the same root first, certified by the same nodes under a later reference.
  const root = fromHex(batch.root, 32);
  await publicClient(anvil.rpcUrl).request({ method: "anvil_mine" as never, params: ["0x1"] as never });
  const reference = await latestBlock({ rpcUrl: anvil.rpcUrl });
  t.not(reference.toString(), batch.certificate.reference, "a reference other than the disperser's");
  const domain = { chainId, inbox: fromHex(inbox, 20) };
  const keys = await Promise.all([0, 1, 2, 3].map((i) => readKeyFile(join(dir, `node${i}.key`))));
  const signatures = new Map(keys.map((k, i) => [i, signAttestation(k.secretKey, domain, root, reference)]));
  await settleBatch({
    rpcUrl: anvil.rpcUrl,
    privateKey,
    inbox,
    root,
    blobsRoot: blobsRoot(batch.blobs.map((b) => fromHex(b.versionedHash, 32))),
    blobCount: batch.blobs.length,
    size: batch.size,
    certificate: buildCertificate(root, signatures, 4, reference),
  });
  const res = await runCli([
    "settle",
    batch.id,
    "--disperser",
    disperser.url,
    "--rpc",
    anvil.rpcUrl,
    "--inbox",
    inbox,
    "--private-key",
    privateKey,
  ]);
  t.equal(res.code, 1);
  t.match(
    res.stderr,
    /recorded on L1 with reference block \d+, not the certificate's \d+ \[CELLAR_ERR_CLI_SETTLED_MISMATCH\]/,
  );
});

t.test("a batch that is not certified is not settled", async (t) => {
  const res = await runCli([
    "settle",
    `0x${"ab".repeat(32)}`,
    "--disperser",
    disperser.url,
    "--rpc",
    anvil.rpcUrl,
    "--inbox",
    inbox,
    "--private-key",
    privateKey,
  ]);
  t.equal(res.code, 1);
  t.match(res.stderr, /^cellar: .*\[CELLAR_ERR_/);
});

t.test("servers without a node set, or --registry without --rpc: usage errors", async (t) => {
  const none = await runCli(["disperser"]);
  t.equal(none.code, 2);
  t.match(none.stderr, /needs a node set/);
  const noRpc = await runCli(["light", "--registry", registry]);
  t.equal(noRpc.code, 2);
  t.match(noRpc.stderr, /--registry needs --rpc/);
});

t.test("cellar l1: deploy, register, list and deregister", async (t) => {
  const deployed = await runCli(["l1", "deploy", "--rpc", anvil.rpcUrl, "--private-key", privateKey, "--json"]);
  t.equal(deployed.code, 0, deployed.stderr);
  t.match(JSON.parse(deployed.stdout), {
    chainId: Number(chainId),
    registry: /^0x[0-9a-fA-F]{40}$/,
    inbox: /^0x[0-9a-fA-F]{40}$/,
  });
  const bound = await runCli([
    "l1",
    "deploy",
    "--rpc",
    anvil.rpcUrl,
    "--private-key",
    privateKey,
    "--registry",
    registry,
    "--quorum",
    "3/4",
  ]);
  t.match(bound.stdout, new RegExp(`registry +${registry}`, "i"));
  t.match(bound.stdout, /quorum 3\/4/);
  const tuned = await runCli([
    "l1",
    "deploy",
    "--rpc",
    anvil.rpcUrl,
    "--private-key",
    privateKey,
    "--minimum-stake",
    "5",
    "--unbonding-blocks",
    "20",
    "--reference-window",
    "10",
    "--permissioned",
    "--json",
  ]);
  t.equal(tuned.code, 0, tuned.stderr);
  const tunedOut = JSON.parse(tuned.stdout) as { registry: `0x${string}`; inbox: `0x${string}` };
  t.same(await readParameters({ rpcUrl: anvil.rpcUrl, ...tunedOut }), {
    minimumStake: 5n,
    unbondingBlocks: 20n,
    permissioned: true,
    referenceWindow: 10n,
  });
  const badStake = await runCli([
    "l1",
    "deploy",
    "--rpc",
    anvil.rpcUrl,
    "--private-key",
    privateKey,
    "--minimum-stake",
    "1e18",
  ]);
  t.match(badStake.stderr, /--minimum-stake must be a non-negative integer.*\[CELLAR_ERR_CLI_INPUT\]/);
  const badQuorum = await runCli([
    "l1",
    "deploy",
    "--rpc",
    anvil.rpcUrl,
    "--private-key",
    privateKey,
    "--quorum",
    "4/3",
  ]);
  t.equal(badQuorum.code, 1);
  t.match(badQuorum.stderr, /--quorum must be a fraction.*\[CELLAR_ERR_CLI_INPUT\]/);

  const l1Args = ["--rpc", anvil.rpcUrl, "--registry", registry];
  const key = join(dir, "extra.key");
  t.equal((await runCli(["keygen", "-o", key])).code, 0);
  const registered = await runCli([
    "l1",
    "register",
    "--key",
    key,
    "--url",
    "http://127.0.0.1:9",
    ...l1Args,
    "--private-key",
    privateKey,
    "--stake",
    "2000000000000000000",
    "--json",
  ]);
  t.equal(registered.code, 0, registered.stderr);
  t.match(JSON.parse(registered.stdout), { index: 4, url: "http://127.0.0.1:9", txHash: /^0x/ });
  const again = await runCli([
    "l1",
    "register",
    "--key",
    key,
    "--url",
    "http://127.0.0.1:9",
    ...l1Args,
    "--private-key",
    privateKey,
  ]);
  t.equal(again.code, 1);
  t.match(again.stderr, /KeyAlreadyRegistered\(0x[0-9a-f]{64}\) \[CELLAR_ERR_L1_REVERTED\]/);

  const left = await runCli(["l1", "deregister", "4", ...l1Args, "--private-key", privateKey]);
  t.equal(left.code, 0, left.stderr);
  t.match(left.stdout, /node 4 left the registry/);
  const early = await runCli(["l1", "withdraw", "4", ...l1Args, "--private-key", privateKey]);
  t.equal(early.code, 1);
  t.match(
    early.stderr,
    /StillUnbonding\(4, \d+\) \[CELLAR_ERR_L1_REVERTED\]/,
    "the bond stays through the unbonding delay",
  );
  const listed = await runCli(["l1", "nodes", ...l1Args, "--json"]);
  const nodes = (JSON.parse(listed.stdout) as { nodes: { index: number; active: boolean; stake: string }[] }).nodes;
  t.same(
    nodes.map((n) => [n.index, n.active, n.stake]),
    [
      [0, true, "1000000000000000000"],
      [1, true, "1000000000000000000"],
      [2, true, "1000000000000000000"],
      [3, true, "1000000000000000000"],
      [4, false, "2000000000000000000"],
    ],
  );
  const badBond = await runCli([
    "l1",
    "register",
    "--key",
    key,
    "--url",
    "http://127.0.0.1:9",
    ...l1Args,
    "--private-key",
    privateKey,
    "--stake",
    "x",
  ]);
  t.match(badBond.stderr, /--stake must be a non-negative integer.*\[CELLAR_ERR_CLI_INPUT\]/);
  const table = await runCli(["l1", "nodes", ...l1Args]);
  t.match(table.stdout, /^index +active +url\n/);
  t.match(table.stdout, /4 +left +http:\/\/127\.0\.0\.1:9/);
  const noKey = await runCli(["l1", "deregister", "3", ...l1Args]);
  t.equal(noKey.code, 2, "no --private-key: a usage error");
});

t.test("nodes accept the dispersers the L1 registry lists, and follow it", async (t) => {
  const errors: unknown[] = [];
  const flag = `0x${"a".repeat(96)}`;
  const keys = disperserKeys(
    { rpc: anvil.rpcUrl, registry, disperserKey: [flag] },
    { error: (e) => errors.push(e) },
    50,
  );
  const before = await keys.current();
  t.same(
    before.map((k) => toHex(k)),
    [flag],
    "before any registration: the flag's key alone",
  );
  t.equal(keys.ready(), true, "L1 answered");
  const disperserId = await createKeyFile(join(dir, "l1-disperser.key"));
  await registerDisperser({
    rpcUrl: anvil.rpcUrl,
    privateKey,
    registry,
    url: "http://127.0.0.1:9",
    secretKey: disperserId.secretKey,
  });
  const seen = await new Promise<Uint8Array[]>((resolve) => {
    const stop = keys.watch((next) => {
      if (next.length === 2) {
        stop();
        resolve(next);
      }
    });
  });
  t.same(
    seen.map((k) => toHex(k)).sort(),
    [flag, toHex(disperserId.publicKey)].sort(),
    "the registered disperser's key joins without a restart",
  );
  // L1 gone: the keys stay, readiness says why.
  const offline = disperserKeys({ rpc: "http://127.0.0.1:1", registry }, { error: (e) => errors.push(e) }, 20);
  await t.rejects(offline.current());
  t.match(offline.ready(), /the L1 registry did not answer/);
  const logged = errors.length;
  const stop = offline.watch(() => t.fail("nothing to apply while L1 is down"));
  for (let i = 0; i < 200 && errors.length === logged; i++) await new Promise((r) => setTimeout(r, 50));
  stop();
  t.ok(errors.length > 0, "the failed polls were logged");
  t.same(disperserKeys({}, { error: () => {} }).ready(), true, "without L1 there is nothing to be unready for");
  disperserKeys({}, { error: () => {} }).watch(() => {})();
});
