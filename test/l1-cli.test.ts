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
  setNodeUrl,
  settleBatch,
  startAnvil,
} from "@cellar/l1";
import { createKeyFile, readKeyFile } from "@cellar/node";
import { buildCertificate, signAttestation } from "@cellar/protocol";
import { runCli } from "@cellar/test-utils/cli";
import { type NodeProcess, startServerProcess } from "@cellar/test-utils/node-process";
import { fromHex, toHex } from "@cellar/utils";
import t from "tap";
import { request } from "undici";

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

/**
 * A port nothing listens on now. Another process may bind it before the node does, so the node's
 * start below retries on EADDRINUSE under a fresh port (and moves its registered URL there).
 */
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
  let port = await freePort();
  const { index } = await registerNode({
    rpcUrl: anvil.rpcUrl,
    privateKey,
    registry,
    url: `http://127.0.0.1:${port}`,
    secretKey: identity.secretKey,
  });
  for (let attempt = 1; ; attempt++) {
    const args = ["--data", data, "--key", join(dir, `node${i}.key`), "--port", String(port), ...l1];
    try {
      children.push(await startServerProcess("node", args));
      break;
    } catch (err) {
      if (attempt === 5 || !/EADDRINUSE/.test(String(err))) throw err;
      port = await freePort();
      await setNodeUrl({ rpcUrl: anvil.rpcUrl, privateKey, registry, index, url: `http://127.0.0.1:${port}` });
    }
  }
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
  // Its certificate, checked against the registry snapshot it names, is a trust root before
  // settlement; a certificate for another batch is not.
  writeFileSync(join(dir, "posted.json"), posted.stdout);
  const certified = await runCli(["sample", batch.id, ...l1, "--certificate", join(dir, "posted.json"), "--json"]);
  t.equal(certified.code, 0, certified.stderr);
  t.match(JSON.parse(certified.stdout), { available: true, failed: [] });
  const otherId = `0x${"cd".repeat(32)}`;
  const wrong = await runCli(["sample", otherId, ...l1, "--certificate", join(dir, "posted.json"), "--json"]);
  t.equal(wrong.code, 1);
  t.match(JSON.parse(wrong.stdout), { error: { code: "CELLAR_ERR_CLI_INPUT", message: /another batch/ } });

  const args = ["settle", batch.id, "--disperser", disperser.url, "--rpc", anvil.rpcUrl, "--inbox", inbox];
  const missingKey = await runCli(args);
  t.equal(missingKey.code, 2, "no --private-key: a usage error");
  t.match(missingKey.stderr, /--private-key/);
  const noSampler = await runCli([...args, "--private-key", privateKey, "--json"]);
  t.equal(noSampler.code, 2, "no light node, no node set, no --skip-sampling: a usage error");
  t.match(JSON.parse(noSampler.stdout), {
    error: { code: "CELLAR_ERR_CLI_USAGE", message: /samples the batch first/ },
  });
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: fromHex(batch.root, 32) }), false);

  // A light node that cannot vouch: nothing is posted.
  const deaf = await runCli([...args, "--private-key", privateKey, "--light", "http://127.0.0.1:1", "--json"]);
  t.equal(deaf.code, 1);
  t.match(JSON.parse(deaf.stdout), { error: { code: "CELLAR_ERR_CLI_NOT_AVAILABLE", message: /could not be asked/ } });
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: fromHex(batch.root, 32) }), false, "not settled");

  // The light node (it checks the certificate itself) vouches; then the root is posted.
  const settled = await runCli([...args, "--private-key", privateKey, "--light", light.url, "--json"]);
  t.equal(settled.code, 0, settled.stderr);
  const out = JSON.parse(settled.stdout) as {
    txHash: string;
    blockNumber: number;
    alreadyRecorded: boolean;
    sampling: { by: string; confidence: number; target: number };
  };
  t.match(out, { txHash: /^0x[0-9a-f]{64}$/, alreadyRecorded: false, sampling: { by: light.url } });
  t.ok(out.sampling.confidence >= out.sampling.target && out.sampling.target === 1 - 1e-6);
  t.ok(out.blockNumber > 0);
  t.equal(await isRecorded({ rpcUrl: anvil.rpcUrl, inbox, root: fromHex(batch.root, 32) }), true);

  const again = await runCli([...args, "--private-key", privateKey, "--light", light.url, "--json"]);
  t.equal(again.code, 0, again.stderr);
  t.match(JSON.parse(again.stdout), {
    txHash: out.txHash,
    blockNumber: out.blockNumber,
    alreadyRecorded: true,
    sampling: { skipped: "already recorded" },
  });

  const human = await runCli([...args, "--private-key", privateKey, "--light", light.url]);
  t.match(human.stdout, /already settled: batch /);

  const sampled = await runCli(["sample", batch.id, ...l1, "--json"]);
  t.equal(sampled.code, 0, sampled.stderr);
  t.match(JSON.parse(sampled.stdout), { available: true });

  // The light node took the certified batch before settlement (settle registered it) and kept
  // following the inbox after: its verdict now names the transaction that recorded the root.
  let availability: { status?: string; settled?: { txHash: string } } = {};
  for (let i = 0; i < 300 && availability.settled === undefined; i++) {
    const res = await request(`${light.url}/v1/batches/${batch.id}/availability`);
    availability = (await res.body.json()) as typeof availability;
    if (availability.settled === undefined) await new Promise((r) => setTimeout(r, 200));
  }
  t.match(availability, { status: "available", settled: { txHash: out.txHash } }, "sampled, then seen settled");
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
  const res = await runCli(["settle", batch.id, "--disperser", disperser.url, ...l1, "--private-key", privateKey]);
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
    "--skip-sampling",
  ]);
  t.equal(res.code, 1);
  t.match(res.stderr, /^cellar: .*\[CELLAR_ERR_/);
});

t.test("cellar settle samples with its own light client over the registry, or skips with a warning", async (t) => {
  writeFileSync(join(dir, "third.bin"), randomBytes(5000));
  const posted = JSON.parse(
    (await runCli(["post", join(dir, "third.bin"), "--disperser", disperser.url, "--json"])).stdout,
  ) as { id: string; root: string };
  const args = ["settle", posted.id, "--disperser", disperser.url, ...l1, "--private-key", privateKey];
  const own = await runCli([...args, "--json"]);
  t.equal(own.code, 0, own.stderr);
  const out = JSON.parse(own.stdout) as { sampling: { by: string; confidence: number; samples: number } };
  t.match(out.sampling, { by: "cellar settle" });
  t.ok(out.sampling.confidence >= 1 - 1e-6 && out.sampling.samples > 0, "sampled to the target");
  // No one registered this batch with the light node: it learns it from the inbox event alone.
  let availability: { status?: string } = {};
  for (let i = 0; i < 300 && availability.status !== "available"; i++) {
    const res = await request(`${light.url}/v1/batches/${posted.id}/availability`);
    availability = (await res.body.json()) as typeof availability;
    if (availability.status !== "available") await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(availability.status, "available", "the light node sampled the settled batch");

  writeFileSync(join(dir, "fourth.bin"), randomBytes(5000));
  const fourth = JSON.parse(
    (await runCli(["post", join(dir, "fourth.bin"), "--disperser", disperser.url, "--json"])).stdout,
  ) as { id: string };
  const skipped = await runCli([
    "settle",
    fourth.id,
    "--disperser",
    disperser.url,
    ...l1,
    "--private-key",
    privateKey,
    "--skip-sampling",
  ]);
  t.equal(skipped.code, 0, skipped.stderr);
  t.match(skipped.stderr, /^warning: settling batch .* without sampling it first \(--skip-sampling\)/);
  t.match(skipped.stdout, /sampled +not sampled \(--skip-sampling\)/);
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
  t.equal(badStake.code, 2, "a malformed flag value is a usage error");
  t.match(
    badStake.stderr,
    /--minimum-stake <wei>' argument '1e18' is invalid\. must be a non-negative integer, got 1e18/,
  );
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
  t.equal(badQuorum.code, 2, "a bad --quorum is a usage error, before any network call");
  t.match(badQuorum.stderr, /--quorum must be a fraction in \(0, 1\] such as 2\/3 or 0\.75, got 4\/3/);

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
  t.equal(badBond.code, 2, "a malformed --stake is a usage error");
  t.match(badBond.stderr, /--stake <wei>' argument 'x' is invalid\. must be a non-negative integer/);
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
