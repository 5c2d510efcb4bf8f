// Sampling in the browser: each chosen column is fetched from its custodians (in random order)
// straight from the storage nodes, and every cell is checked against its blob's commitment with
// KZG in WebAssembly before it counts. A cell that fails its proof is never counted, whoever
// served it; a column counts towards confidence only once every blob's cell in it verified.
const BYTES_PER_CELL = 2048;
const BYTES_PER_ENTRY = 2048 + 48;

/** EIP-7594 batch verification of cells (kzg-wasm's `verifyCellKzgProofBatch`, in a worker). */
export interface CellVerifier {
  verify(commitments: Uint8Array[], columns: number[], cells: Uint8Array[], proofs: Uint8Array[]): Promise<boolean>;
}

export type CellState = "fetching" | "verified" | "failed" | "missing";
export type NodeState = "ok" | "missing" | "unreachable" | "failed";

export interface SampleJob {
  readonly root: string;
  readonly commitments: readonly Uint8Array[];
  /** Column → registry indexes of its custodians. */
  readonly custody: readonly (readonly number[])[];
  /** Column → the nodes asked, in order, once its custodians failed (PROTOCOL.md §10.1). */
  readonly standIns?: readonly (readonly number[])[];
  readonly urls: ReadonlyMap<number, string>;
  readonly columns: readonly number[];
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  /** Shuffles a column's custodians (the CSPRNG in the page). */
  readonly shuffle: (nodes: readonly number[]) => number[];
}

export interface SampleEvents {
  cell(blob: number, column: number, state: CellState, node?: number): void;
  column(column: number, state: Exclude<CellState, "fetching">): void;
  node(index: number, state: NodeState): void;
  proofs(checked: number, verified: number, failed: number): void;
}

export interface BrowserVerdict {
  readonly verified: number[];
  readonly failed: number[];
  readonly missing: number[];
  readonly proofsChecked: number;
  readonly proofsVerified: number;
  readonly proofsFailed: number;
}

type Fetched = { ok: true; bytes: Uint8Array } | { ok: false; state: NodeState };

async function fetchColumn(url: string, root: string, column: number, timeoutMs: number): Promise<Fetched> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, "")}/v1/batches/${root}/columns/${column}`, {
      signal: AbortSignal.timeout(timeoutMs),
      cache: "no-store",
    });
    if (res.status === 404) return { ok: false, state: "missing" };
    if (!res.ok) return { ok: false, state: "failed" };
    return { ok: true, bytes: new Uint8Array(await res.arrayBuffer()) };
  } catch {
    return { ok: false, state: "unreachable" };
  }
}

/** Samples `job.columns`, reporting every cell and node as it goes; resolves with the verdict. */
export async function sampleInBrowser(
  job: SampleJob,
  kzg: CellVerifier,
  events: SampleEvents,
): Promise<BrowserVerdict> {
  const blobs = job.commitments.length;
  const verdict = {
    verified: [] as number[],
    failed: [] as number[],
    missing: [] as number[],
    proofsChecked: 0,
    proofsVerified: 0,
    proofsFailed: 0,
  };
  const verify = async (column: number, blobIndexes: number[], bytes: Uint8Array): Promise<boolean[]> => {
    const at = (b: number) => b * BYTES_PER_ENTRY;
    const cells = blobIndexes.map((b) => bytes.slice(at(b), at(b) + BYTES_PER_CELL));
    const proofs = blobIndexes.map((b) => bytes.slice(at(b) + BYTES_PER_CELL, at(b + 1)));
    const commitments = blobIndexes.map((b) => job.commitments[b] as Uint8Array);
    const all = await kzg.verify(
      commitments,
      blobIndexes.map(() => column),
      cells,
      proofs,
    );
    // A failing batch is searched cell by cell, so that good cells still count and bad ones are named.
    const each = all
      ? blobIndexes.map(() => true)
      : await Promise.all(
          blobIndexes.map((_, i) =>
            kzg.verify([commitments[i] as Uint8Array], [column], [cells[i] as Uint8Array], [proofs[i] as Uint8Array]),
          ),
        );
    verdict.proofsChecked += blobIndexes.length;
    for (const ok of each) ok ? verdict.proofsVerified++ : verdict.proofsFailed++;
    events.proofs(verdict.proofsChecked, verdict.proofsVerified, verdict.proofsFailed);
    return each;
  };

  const sampleColumn = async (column: number): Promise<void> => {
    for (let b = 0; b < blobs; b++) events.cell(b, column, "fetching");
    const verified = new Set<number>();
    const failed = new Set<number>();
    // [§10.1] The custodians in random order, then the stand-ins in rendezvous order.
    for (const node of [...job.shuffle(job.custody[column] ?? []), ...(job.standIns?.[column] ?? [])]) {
      const url = job.urls.get(node);
      if (url === undefined) continue;
      const got = await fetchColumn(url, job.root, column, job.timeoutMs ?? 5000);
      if (!got.ok) {
        events.node(node, got.state);
        continue;
      }
      if (got.bytes.length !== blobs * BYTES_PER_ENTRY) {
        events.node(node, "failed");
        continue;
      }
      const pending = Array.from({ length: blobs }, (_, b) => b).filter((b) => !verified.has(b));
      const results = await verify(column, pending, got.bytes);
      let bad = false;
      pending.forEach((b, i) => {
        if (results[i]) {
          verified.add(b);
          failed.delete(b);
          events.cell(b, column, "verified", node);
        } else {
          bad = true;
          failed.add(b);
          events.cell(b, column, "failed", node);
        }
      });
      events.node(node, bad ? "failed" : "ok");
      if (verified.size === blobs) break;
    }
    for (let b = 0; b < blobs; b++) if (!verified.has(b) && !failed.has(b)) events.cell(b, column, "missing");
    const state = verified.size === blobs ? "verified" : failed.size > 0 ? "failed" : "missing";
    verdict[state].push(column);
    events.column(column, state);
  };

  const queue = [...job.columns];
  const workers = Array.from({ length: Math.min(job.concurrency ?? 6, queue.length) }, async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) await sampleColumn(c);
  });
  await Promise.all(workers);
  for (const list of [verdict.verified, verdict.failed, verdict.missing]) list.sort((a, b) => a - b);
  return verdict;
}
