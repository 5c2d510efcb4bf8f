// The explorer page: lists the serving role's recent batches live (server-sent events), and for
// the chosen batch samples it itself, straight from the storage nodes, verifying every cell proof
// here in WebAssembly, while drawing the grid and both verdicts: this browser's and the role's.
import type { ExplorerBatch, ExplorerEvent, ExplorerNetwork } from "../src/types.js";
import { confidenceOf, formatConfidence, randomColumns, samplesFor, shuffled } from "./confidence.js";
import { Grid } from "./grid.js";
import type { VerifyRequest, WorkerMessage } from "./kzg-worker.js";
import { type CheckedManifest, checkManifest } from "./manifest-check.js";
import { type CellState, type CellVerifier, type NodeState, sampleInBrowser } from "./sampler.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const random = (out: Uint32Array) => crypto.getRandomValues(out);
const shuffle = (xs: readonly number[]): number[] => shuffled(xs, random);

const params = new URLSearchParams(location.search);
const batches = new Map<string, ExplorerBatch>();
let network: ExplorerNetwork;
let kzg: Promise<CellVerifier | null>;
let selected: string | null = params.get("batch")?.toLowerCase() ?? null;
let grid: Grid | null = null;
let manifest: CheckedManifest | null = null;
let run = 0;
let lightRound = -1;
const found = new Map<string, { state: CellState; node?: number }>();
const nodeStates = new Map<number, NodeState>();

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { cache: "no-store" });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

function short(s: string): string {
  return s.length > 22 ? `${s.slice(0, 12)}…${s.slice(-6)}` : s;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls !== undefined) e.className = cls;
  return e;
}

type Done = "true" | "false" | "failed" | "current";

/** The steps of a batch's life, each done, current, failed or still ahead. */
function stages(b: ExplorerBatch): [string, Done][] {
  const order = ["encoding", "dispersing", "certified", "sampling", "settled"];
  const at = b.status === "available" || b.status === "unavailable" ? 3 : order.indexOf(b.status);
  const step = (i: number): Done => (b.status === "settled" || i < at ? "true" : i === at ? "current" : "false");
  const sampled = b.sampling
    ? `sampled ${formatConfidence(b.sampling.confidence)}`
    : b.status === "sampling"
      ? "sampling…"
      : "sampled";
  const sampledDone: Done =
    b.status === "available" || (b.status === "settled" && (b.sampling?.confidence ?? 0) > 0)
      ? "true"
      : b.status === "unavailable"
        ? "failed"
        : b.status === "sampling"
          ? "current"
          : "false";
  if (b.status === "failed")
    return [
      ["encoded", "true"],
      ["not certified", "failed"],
    ];
  return [
    [b.status === "encoding" ? "encoding…" : "encoded", step(0) === "current" ? "current" : step(0)],
    [b.status === "dispersing" ? "dispersing…" : "dispersed", step(1)],
    ["certified", step(2)],
    [sampled, sampledDone],
    [b.settled ? `settled on L1 · tx ${short(b.settled.txHash)}` : "settled on L1", b.settled ? "true" : "false"],
  ];
}

function stageChips(b: ExplorerBatch): HTMLElement {
  const box = el("span", undefined, "stages");
  for (const [label, done] of stages(b)) {
    const chip = el("span", label, "stage");
    chip.dataset.done = done;
    box.append(chip);
  }
  return box;
}

function renderList(): void {
  const list = $("batch-list");
  const sorted = [...batches.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  $("no-batches").hidden = sorted.length > 0;
  list.replaceChildren(
    ...sorted.map((b) => {
      const li = el("li");
      const button = el("button");
      button.type = "button";
      button.dataset.key = b.key;
      button.dataset.root = b.root;
      button.dataset.status = b.status;
      button.setAttribute("aria-current", String(b.root !== "" && b.root === selected));
      button.append(el("span", b.id ? short(b.id) : "new batch", "id"));
      const facts = [
        b.size !== undefined ? `${b.size.toLocaleString("en")} bytes` : "",
        b.blobs ? `${b.blobs} blobs` : "",
      ];
      button.append(el("span", ` ${facts.filter(Boolean).join(", ")}`));
      button.append(stageChips(b));
      // A batch still encoding has no root yet: nothing to sample.
      if (b.root) button.addEventListener("click", () => select(b.root));
      else button.setAttribute("aria-disabled", "true");
      li.append(button);
      return li;
    }),
  );
}

function renderHead(): void {
  const b = selected ? batches.get(selected) : undefined;
  const head = $("batch-head");
  if (!b) {
    head.replaceChildren(el("p", selected ? "This batch is not known here yet." : "Choose a batch.", "empty"));
    return;
  }
  const dl = el("dl");
  const row = (k: string, v: string) => dl.append(el("dt", k), el("dd", v));
  row("id", b.id);
  row("root", b.root);
  if (b.size !== undefined) row("size", `${b.size.toLocaleString("en")} bytes`);
  if (manifest || b.blobs) row("blobs", String(manifest?.commitments.length ?? b.blobs));
  row("status", b.status);
  if (b.certified) row("signers", b.certified.signers.join(", "));
  if (b.sampling) row(`${network.source} rounds`, String(b.sampling.round));
  if (b.settled) row("settled", `tx ${b.settled.txHash} (block ${b.settled.blockNumber})`);
  if (b.error) row("error", b.error);
  head.replaceChildren(dl, stageChips(b));
  const server = $("server-confidence");
  if (network.source === "light") {
    const c = b.sampling?.confidence ?? 0;
    server.dataset.value = String(c);
    $("server-confidence-value").textContent = b.sampling ? formatConfidence(c) : "–";
    $("server-confidence-text").textContent = b.sampling
      ? `${b.sampling.samples} columns, ${b.sampling.verified} cells in round ${b.sampling.round}: the light node's own verification, not checked by this browser.`
      : "The light node has not finished a round yet.";
  }
}

function renderNodes(): void {
  $("nodes").replaceChildren(
    ...network.nodes.map((n) => {
      const li = el("li", `node ${n.index}: ${nodeStates.get(n.index) ?? "not asked"}`);
      li.dataset.node = String(n.index);
      li.dataset.nodeState = nodeStates.get(n.index) ?? "unknown";
      li.title = n.url;
      return li;
    }),
  );
}

const WORSE: Record<NodeState, number> = { ok: 0, missing: 1, unreachable: 2, failed: 3 };

function noteNode(index: number, state: NodeState): void {
  const before = nodeStates.get(index);
  if (before === undefined || WORSE[state] > WORSE[before]) nodeStates.set(index, state);
  const li = document.querySelector<HTMLElement>(`#nodes li[data-node="${index}"]`);
  if (li) {
    const now = nodeStates.get(index) as NodeState;
    li.dataset.nodeState = now;
    li.textContent = `node ${index}: ${now}`;
  }
}

function describe(blob: number, column: number): string {
  const custodians = (network.custody[column] ?? []).map((n) => `node ${n} (${nodeStates.get(n) ?? "not asked"})`);
  const f = found.get(`${blob}/${column}`);
  const here = f ? `${f.state}${f.node !== undefined ? ` (from node ${f.node})` : ""}` : "not sampled by this browser";
  const light = grid?.element.querySelector<HTMLElement>(`[data-blob="${blob}"][data-column="${column}"]`)?.dataset
    .light;
  const standIns = (network.standIns?.[column] ?? []).map((n) => `node ${n}`);
  return `Blob ${blob}, column ${column}: ${here}. Custodians: ${custodians.join(", ")}.${standIns.length > 0 ? ` Then: ${standIns.join(", ")}.` : ""}${light ? ` Light node: ${light}.` : ""}`;
}

function applyLight(b: ExplorerBatch): void {
  if (!grid || !b.sampling || network.source !== "light") return;
  if (b.sampling.round !== lightRound) {
    grid.clearLight();
    lightRound = b.sampling.round;
  }
  for (const o of b.sampling.columns) if (o.state !== "fetching") grid.setLight(o.column, o.state);
}

async function loadManifest(root: string): Promise<CheckedManifest | null> {
  for (const i of shuffle(network.nodes.map((n) => n.index))) {
    const url = network.nodes.find((n) => n.index === i)?.url as string;
    try {
      const res = await fetch(`${url.replace(/\/+$/, "")}/v1/batches/${root}/manifest`, {
        signal: AbortSignal.timeout(5000),
        cache: "no-store",
      });
      if (res.ok) return checkManifest(await res.json(), root);
    } catch {
      // unreachable, or a manifest that does not hold: ask the next node
    }
  }
  return null;
}

let loading: string | null = null;

async function select(root: string): Promise<void> {
  if (loading === root) return;
  loading = root;
  try {
    await open(root);
  } finally {
    if (loading === root) loading = null;
  }
}

async function open(root: string): Promise<void> {
  selected = root;
  const url = new URL(location.href);
  url.searchParams.set("batch", root);
  history.replaceState(null, "", url);
  manifest = null;
  grid = null;
  lightRound = -1;
  $("grid").replaceChildren();
  renderList();
  renderHead();
  resetVerdict("looking for the manifest on the storage nodes…");
  const m = await loadManifest(root);
  if (selected !== root) return;
  if (!m) {
    resetVerdict("No storage node serves a manifest matching this batch's root (yet).");
    return;
  }
  manifest = m;
  grid = new Grid($("grid"), $("cell-info"), m.commitments.length, network.custody, { describe });
  const b = batches.get(root);
  if (b) applyLight(b);
  renderHead();
  void sampleHere();
}

function resetVerdict(text: string): void {
  const box = $("browser-confidence");
  Object.assign(box.dataset, {
    value: "0",
    done: "false",
    available: "",
    columnsVerified: "0",
    columnsFailed: "0",
    columnsMissing: "0",
    proofsChecked: "0",
    proofsVerified: "0",
    proofsFailed: "0",
  });
  $("browser-confidence-value").textContent = "–";
  $("browser-bar").style.width = "0";
  $("browser-confidence-text").textContent = text;
}

async function sampleHere(): Promise<void> {
  if (!manifest || !grid || !selected) return;
  const token = ++run;
  const verifier = await kzg;
  if (token !== run) return;
  if (!verifier) {
    resetVerdict("KZG could not be loaded in this browser: nothing was verified here.");
    return;
  }
  const m = manifest;
  const g = grid;
  const blobs = m.commitments.length;
  for (let b = 0; b < blobs; b++) for (let c = 0; c < 128; c++) g.set(b, c, "unsampled");
  found.clear();
  nodeStates.clear();
  renderNodes();
  const target = network.target;
  const want = Number($<HTMLSelectElement>("columns").value) || samplesFor(target);
  const columns = randomColumns(want, random);
  resetVerdict(`sampling ${want} random columns (${want * blobs} cells)…`);
  const box = $("browser-confidence");
  let verifiedColumns = 0;
  const show = (confidence: number) => {
    box.dataset.value = String(confidence);
    $("browser-confidence-value").textContent = formatConfidence(confidence);
    $("browser-bar").style.width = `${Math.min(100, (verifiedColumns / samplesFor(target)) * 100)}%`;
  };
  const verdict = await sampleInBrowser(
    {
      root: selected,
      commitments: m.commitments,
      custody: network.custody,
      standIns: network.standIns,
      urls: new Map(network.nodes.map((n) => [n.index, n.url])),
      columns,
      shuffle,
    },
    verifier,
    {
      cell(blob, column, state, node) {
        if (token !== run) return;
        g.set(blob, column, state);
        found.set(`${blob}/${column}`, node !== undefined ? { state, node } : { state });
      },
      column(_column, state) {
        if (token !== run) return;
        if (state === "verified") verifiedColumns++;
        box.dataset.columnsVerified = String(verifiedColumns);
        show(confidenceOf(verifiedColumns));
      },
      node(index, state) {
        if (token === run) noteNode(index, state);
      },
      proofs(checked, ok, bad) {
        if (token !== run) return;
        Object.assign(box.dataset, {
          proofsChecked: String(checked),
          proofsVerified: String(ok),
          proofsFailed: String(bad),
        });
      },
    },
  );
  if (token !== run) return;
  const gaps = verdict.failed.length + verdict.missing.length;
  // Any 64 verified columns rebuild every blob: then the answer is certain, gaps or not.
  const available = gaps === 0 || verdict.verified.length >= 64;
  const confidence = available ? confidenceOf(verdict.verified.length) : 0;
  show(confidence);
  Object.assign(box.dataset, {
    done: "true",
    available: String(available),
    columnsVerified: String(verdict.verified.length),
    columnsFailed: String(verdict.failed.length),
    columnsMissing: String(verdict.missing.length),
  });
  const proofs = `${verdict.proofsVerified} of ${verdict.proofsChecked} cell proofs verified here in WebAssembly`;
  const certain = verdict.verified.length >= 64 ? " (64 verified columns rebuild every blob: certain)" : "";
  $("browser-confidence-text").textContent = available
    ? `Available${certain}: ${verdict.verified.length} columns, ${proofs}${verdict.proofsFailed ? `; ${verdict.proofsFailed} failed and were not counted` : ""}.`
    : `NOT available at this confidence: columns ${[...verdict.failed, ...verdict.missing].sort((a, b) => a - b).join(", ")} could not be had with valid proofs; ${proofs}.`;
}

function onBatch(b: ExplorerBatch): void {
  const before = batches.get(b.key);
  batches.set(b.key, b);
  if (selected === null && b.root) void select(b.root);
  else renderList();
  if (b.root !== selected) return;
  renderHead();
  applyLight(b);
  // A batch chosen before its columns were stored: try again once the role knows more.
  if (!manifest && before?.status !== b.status) void select(b.root);
}

/** kzg-wasm in a worker; resolves once the trusted setup is loaded (null if it could not be). */
function startKzg(): Promise<CellVerifier | null> {
  const status = $("kzg-status");
  const worker = new Worker(new URL("./kzg-worker.js", import.meta.url), { type: "module" });
  const waiting = new Map<number, (ok: boolean) => void>();
  let next = 0;
  const verifier: CellVerifier = {
    verify(commitments, columns, cells, proofs) {
      const id = next++;
      const request: VerifyRequest = { id, commitments, columns, cells, proofs };
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        worker.postMessage(request);
      });
    },
  };
  return new Promise((resolve) => {
    const failed = (message: string) => {
      status.dataset.kzg = "error";
      status.textContent = `KZG failed to load: ${message}`;
      resolve(null);
    };
    worker.onerror = (e) => failed(e.message);
    worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      const m = e.data;
      if (m.type === "ready") {
        status.dataset.kzg = "ready";
        status.textContent = "KZG ready (WebAssembly, Ethereum's trusted setup, loaded from this server)";
        resolve(verifier);
      } else if (m.type === "error") failed(m.message);
      else {
        waiting.get(m.id)?.(m.ok);
        waiting.delete(m.id);
      }
    };
  });
}

async function boot(): Promise<void> {
  kzg = startKzg();
  network = await getJson<ExplorerNetwork>("/v1/explorer/network");
  $("source").textContent =
    `served by the ${network.source === "light" ? "light node" : "disperser"} · ${network.nodes.length} storage nodes, replication ${network.replication}`;
  if (network.source === "disperser") {
    $("server-confidence-title").textContent = "The disperser";
    $("server-confidence-value").textContent = "does not sample";
    $("server-confidence-text").textContent =
      "It encodes, disperses and certifies; this browser's verdict is the only sampling shown here.";
  }
  const s = samplesFor(network.target);
  const select_ = $<HTMLSelectElement>("columns");
  for (const [value, label] of [
    [s, `${s} (target ${formatConfidence(network.target)})`],
    [32, "32"],
    [64, "64 (enough to rebuild)"],
    [128, "all 128"],
  ] as const) {
    const o = el("option", label);
    o.value = String(value);
    select_.append(o);
  }
  const wanted = params.get("columns");
  if (wanted && [...select_.options].some((o) => o.value === wanted)) select_.value = wanted;
  $("resample").addEventListener("click", () => void sampleHere());
  select_.addEventListener("change", () => void sampleHere());
  renderNodes();
  $("batch-list").addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const buttons = [...document.querySelectorAll<HTMLButtonElement>("#batch-list button")];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = buttons[Math.max(0, Math.min(buttons.length - 1, at + (e.key === "ArrowDown" ? 1 : -1)))];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  });

  const events = new EventSource("/v1/explorer/events");
  events.addEventListener("batch", (e) =>
    onBatch((JSON.parse((e as MessageEvent).data) as Extract<ExplorerEvent, { type: "batch" }>).batch),
  );
  events.addEventListener("forget", (e) => {
    batches.delete((JSON.parse((e as MessageEvent).data) as Extract<ExplorerEvent, { type: "forget" }>).key);
    renderList();
  });
  events.addEventListener("column", (e) => {
    const ev = JSON.parse((e as MessageEvent).data) as Extract<ExplorerEvent, { type: "column" }>;
    if (ev.root !== selected || !grid || network.source !== "light") return;
    if (ev.round !== lightRound) {
      grid.clearLight();
      lightRound = ev.round;
    }
    if (ev.outcome.state !== "fetching") grid.setLight(ev.outcome.column, ev.outcome.state);
  });
  for (const b of (await getJson<{ batches: ExplorerBatch[] }>("/v1/explorer/batches")).batches) batches.set(b.key, b);
  renderList();
  const newest = [...batches.values()].filter((b) => b.root).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const first = selected ?? newest[0]?.root ?? null;
  if (first) await select(first);
  else renderHead();
}

void boot();
