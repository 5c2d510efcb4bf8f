/// <reference lib="dom" />
// The explorer in a real headless Chromium, on a real cluster in this process: six storage nodes,
// a light node and a disperser. The page must sample a posted batch itself, straight from the
// storage nodes, verify every cell proof in WebAssembly and reach the target confidence; show a
// cell that a node serves corrupted as failed (never verified); show the columns of killed nodes
// as missing; and send no request anywhere but this machine. Screenshots at 1280×800 and at a
// phone's width go to test/artifacts/ (git-ignored).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseColumn } from "@cellar/codec";
import { buildDisperserApp, Disperser } from "@cellar/disperser";
import { sharedKzg } from "@cellar/kzg";
import { LightNode, samplesFor } from "@cellar/light";
import { sharedErasure } from "@cellar/native";
import { custodyTable } from "@cellar/protocol";
import { startCluster, TEST_DISPERSER_KEY, TEST_DOMAIN } from "@cellar/test-utils/cluster";
import { PROJECT_ROOT } from "@cellar/test-utils/vectors";
import { fromHex } from "@cellar/utils";
import { type Browser, chromium, type Page } from "playwright-core";
import t from "tap";
import { request } from "undici";

const CHROMIUM = process.env.CELLAR_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(PROJECT_ROOT, "test", "artifacts");
const TARGET = 1 - 1e-6;
// Without chromium only a developer's machine may skip; CI installs it (.ci/run) and must run this.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `no chromium at ${CHROMIUM}` : false;

t.test("the explorer samples and verifies in the browser, live", { skip }, async (t) => {
  const kzg = sharedKzg();
  const erasure = sharedErasure();
  const cluster = await startCluster(6, kzg);
  t.teardown(() => cluster.stop());
  const light = new LightNode({ nodes: cluster.set, domain: TEST_DOMAIN, intervalMs: 3_600_000 }, { kzg });
  const lightUrl = await light.listen();
  t.teardown(() => light.stop());
  const disperser = new Disperser(
    { key: TEST_DISPERSER_KEY, nodes: cluster.set, domain: TEST_DOMAIN, lightNodes: [lightUrl] },
    { kzg, erasure },
  );
  const app = buildDisperserApp(disperser);
  const disperserUrl = await app.listen({ host: "127.0.0.1", port: 0 });
  t.teardown(async () => {
    await app.close();
    await disperser.close();
  });
  const custody = custodyTable(cluster.set, 2).map((holders) => holders.map((n) => n.index));

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  t.teardown(() => browser.close());
  mkdirSync(ARTIFACTS, { recursive: true });
  const requested: string[] = [];
  const problems: string[] = [];
  const open = async (url: string, width: number, height: number): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on("request", (r) => requested.push(r.url()));
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (m) => {
      // A fetch from a killed node is logged by the browser itself; anything else is the page's.
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
        problems.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    return page;
  };
  const verdict = (page: Page) =>
    page.$eval("#browser-confidence", (el) => ({ ...(el as HTMLElement).dataset }) as Record<string, string>);
  const cellStates = (page: Page) =>
    page.$$eval('[role="gridcell"]', (els) =>
      els.map((el) => {
        const d = (el as HTMLElement).dataset;
        return { blob: Number(d.blob), column: Number(d.column), state: d.state as string };
      }),
    );
  const waitDone = (page: Page) => page.waitForSelector('#browser-confidence[data-done="true"]', { timeout: 240_000 });

  // The page is open before the batch exists: it must pick the batch up live.
  const page = await open(`${lightUrl}/explorer/`, 1280, 800);
  await page.waitForSelector('#kzg-status[data-kzg="ready"]', { timeout: 240_000 });
  t.equal(await page.$$eval("#batch-list button", (b) => b.length), 0, "no batch yet");

  const bytes = new Uint8Array(300_000).map((_, i) => (i * 7 + 3) & 0xff);
  const res = await request(`${disperserUrl}/v1/batches`, { method: "POST", body: bytes });
  const posted = (await res.body.json()) as { id: string; root: string; status: string; blobs: unknown[] };
  t.equal(posted.status, "certified");
  const blobs = posted.blobs.length;
  t.equal(blobs, 3);

  await page.waitForSelector(`#batch-list button[data-root="${posted.root}"]`, { timeout: 30_000 });
  await waitDone(page);
  const s = samplesFor(TARGET);
  const first = await verdict(page);
  t.equal(first.available, "true", "available, by this browser's own checks");
  t.ok(Number(first.value) >= TARGET, `in-browser confidence ${first.value} reaches the target`);
  t.equal(first.columnsVerified, String(s), `${s} random columns verified`);
  t.equal(first.proofsVerified, String(s * blobs), "every cell proof of every sampled column verified in the page");
  t.equal(first.proofsFailed, "0");
  const cells = await cellStates(page);
  t.equal(cells.length, blobs * 128, "one element per cell, blobs × 128");
  const verifiedColumns = new Set(cells.filter((c) => c.state === "verified").map((c) => c.column));
  t.equal(verifiedColumns.size, s);
  t.equal(cells.filter((c) => c.state === "verified").length, s * blobs, "each sampled column complete");
  t.notOk(
    cells.some((c) => c.state === "failed" || c.state === "missing" || c.state === "fetching"),
    "nothing failed or missing",
  );
  t.same(
    await page.$$eval('[role="columnheader"][data-column]', (els) =>
      els.map((el) => ((el as HTMLElement).dataset.custodians ?? "").split(",").map(Number)),
    ),
    custody,
    "each column header names its custodians",
  );
  // The light node's own verdict, shown beside and labelled as its own.
  await page.waitForFunction(
    (target) => Number(document.querySelector<HTMLElement>("#server-confidence")?.dataset.value) >= target,
    TARGET,
    { timeout: 30_000 },
  );
  t.match(await page.textContent("#server-confidence"), /not checked by this browser/);
  t.match(await page.textContent("#browser-confidence"), /verified here in WebAssembly/);

  // Keyboard: arrows move over the grid and the cell tells what is known of it.
  await page.focus('[role="gridcell"][data-blob="0"][data-column="0"]');
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowDown");
  t.same(
    await page.evaluate(() => {
      const d = (document.activeElement as HTMLElement).dataset;
      return [d.blob, d.column];
    }),
    ["1", "1"],
    "ArrowRight then ArrowDown lands on blob 1, column 1",
  );
  t.match(await page.textContent("#cell-info"), /Blob 1, column 1: .*Custodians: node \d/);
  await page.screenshot({ path: join(ARTIFACTS, "explorer-1280x800.png") });

  // A corrupted cell: blob 1 of column `bad` is wrong at both custodians (under a valid checksum,
  // as corruption above the disk's would be). Sampling every column must find it and say failed.
  const killed = custody[0] as number[];
  const bad = custody.findIndex((holders) => holders.every((n) => !killed.includes(n)));
  const root = fromHex(posted.root, 32, "root");
  for (const index of custody[bad] as number[]) {
    const node = cluster.nodes[index];
    const got = await request(`${node?.url}/v1/batches/${posted.root}/columns/${bad}`);
    const column = parseColumn(new Uint8Array(await got.body.arrayBuffer()), bad, blobs);
    const cells_ = column.cells.map((c) => c.slice());
    const flipped = cells_[1] as Uint8Array;
    flipped[100] = (flipped[100] as number) ^ 0x01;
    const manifest = node?.store.getBatch(root)?.manifest;
    if (manifest) await node?.store.putBatch(manifest, [{ ...column, cells: cells_ }]);
  }
  await page.evaluate(
    ([b, c]) => {
      const cell = document.querySelector<HTMLElement>(`[data-blob="${b}"][data-column="${c}"]`);
      (window as unknown as { sawVerified: boolean }).sawVerified = false;
      new MutationObserver(() => {
        if (cell?.dataset.state === "verified") (window as unknown as { sawVerified: boolean }).sawVerified = true;
      }).observe(cell as HTMLElement, { attributes: true, attributeFilter: ["data-state"] });
    },
    [1, bad],
  );
  await page.selectOption("#columns", "128");
  await page.waitForSelector('#browser-confidence[data-done="false"]');
  await waitDone(page);
  const scan = await verdict(page);
  t.equal(scan.columnsFailed, "1", "one column cannot be had with valid proofs");
  t.equal(scan.columnsVerified, "127");
  t.equal(scan.proofsFailed, "2", "the bad cell failed at both custodians");
  t.equal(scan.available, "true", "127 verified columns rebuild the batch all the same");
  const after = await cellStates(page);
  t.same(
    after.filter((c) => c.state === "failed"),
    [{ blob: 1, column: bad, state: "failed" }],
    "the corrupted cell, and only it, is failed",
  );
  t.equal(
    await page.evaluate(() => (window as unknown as { sawVerified: boolean }).sawVerified),
    false,
    "never shown verified",
  );
  for (const index of custody[bad] as number[])
    t.equal(
      await page.$eval(`#nodes li[data-node="${index}"]`, (el) => (el as HTMLElement).dataset.nodeState),
      "failed",
      `node ${index} is shown serving a bad cell`,
    );

  // Kill both custodians of column 0: every column they alone keep turns missing.
  for (const index of killed) await cluster.nodes[index]?.stop();
  const dead = custody.flatMap((holders, c) => (holders.every((n) => killed.includes(n)) ? [c] : []));
  t.ok(dead.includes(0));
  await page.click("#resample");
  await page.waitForSelector('#browser-confidence[data-done="false"]');
  await waitDone(page);
  const down = await verdict(page);
  t.equal(down.columnsMissing, String(dead.length), `columns ${dead.join(", ")} are missing`);
  const missing = (await cellStates(page)).filter((c) => c.state === "missing");
  t.same([...new Set(missing.map((c) => c.column))], dead, "exactly the killed nodes' columns");
  t.equal(missing.length, dead.length * blobs, "every blob's cell in them");
  for (const index of killed)
    t.equal(
      await page.$eval(`#nodes li[data-node="${index}"]`, (el) => (el as HTMLElement).dataset.nodeState),
      "unreachable",
    );
  await page.screenshot({ path: join(ARTIFACTS, "explorer-1280x800-faults.png") });

  // Settled on L1, as the light node learns it from the inbox: shown with the transaction hash.
  const txHash = `0x${"ab".repeat(32)}`;
  light.markSettled(root, { txHash, blockNumber: 42 });
  await page.waitForSelector(`#batch-list button[data-root="${posted.root}"][data-status="settled"]`);
  t.match(await page.textContent("#batch-head"), new RegExp(`${txHash} \\(block 42\\)`));

  // A phone's width: the same page, the grid scrolls sideways inside its frame.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click("#resample");
  await page.waitForSelector('#browser-confidence[data-done="false"]');
  await waitDone(page);
  t.equal((await verdict(page)).columnsMissing, String(dead.length), "the same verdict at a phone's width");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `the page itself does not scroll sideways (${overflow} px)`);
  const grid = await page.$eval(".grid-wrap", (el) => ({ client: el.clientWidth, scroll: el.scrollWidth }));
  t.ok(grid.scroll > grid.client, "the grid scrolls inside its frame");
  await page.screenshot({ path: join(ARTIFACTS, "explorer-390-phone.png"), fullPage: true });

  // The disperser serves the same page, with its own view of the batch (it lists the batch at once,
  // while its own KZG worker is still loading).
  const dpage = await open(`${disperserUrl}/explorer/`, 1280, 800);
  await dpage.waitForSelector(`#batch-list button[data-root="${posted.root}"][data-status="certified"]`);
  t.match(await dpage.textContent("#server-confidence"), /does not sample/);
  t.match(await dpage.textContent("#source"), /served by the disperser/);
  await dpage.close();

  t.same(problems, [], "no error in the pages");
  const outside = requested.filter((u) => !u.startsWith("http://127.0.0.1:"));
  t.same(outside, [], "no request leaves this machine");
  t.ok(
    requested.some((u) => u.endsWith("/explorer/wasm/kzg.wasm")),
    "the wasm comes from the serving role",
  );
});
