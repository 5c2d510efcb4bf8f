// The JSON the explorer page reads: shared by the server side (which sends it) and the page
// (which only imports these types), so both stay in step.

/** Where a batch stands, as far as the serving role knows. */
export type BatchStage =
  | "encoding"
  | "dispersing"
  | "certified"
  | "failed"
  | "sampling"
  | "available"
  | "unavailable"
  | "settled";

/** What became of one sampled column in a round. */
export type ColumnState = "fetching" | "verified" | "failed" | "missing";

export interface ColumnOutcome {
  readonly column: number;
  readonly state: ColumnState;
  /** Registry index of the node whose answer decided it (none for `missing`). */
  readonly node?: number;
}

/** The serving role's latest sampling round of a batch (light node only). */
export interface SamplingView {
  readonly round: number;
  readonly confidence: number;
  readonly target: number;
  readonly samples: number;
  readonly verified: number;
  readonly failed: readonly number[];
  readonly checkedAt: string | null;
  readonly columns: readonly ColumnOutcome[];
}

/** One recent batch as the explorer lists it. */
export interface ExplorerBatch {
  /** The root, or a provisional key while the batch is encoding and has none yet. */
  readonly key: string;
  /** 0x-hex root; empty while encoding. */
  readonly root: string;
  /** Batch id (CID); empty while encoding. */
  readonly id: string;
  readonly status: BatchStage;
  readonly size?: number;
  readonly blobs?: number;
  readonly certified?: { readonly signers: readonly number[] };
  readonly sampling?: SamplingView;
  readonly settled?: { readonly txHash: string; readonly blockNumber: number };
  readonly error?: string;
  readonly updatedAt: string;
}

/** `GET /v1/explorer/network`: who serves the page, and the node set with its custody. */
export interface ExplorerNetwork {
  readonly source: "light" | "disperser";
  readonly replication: number;
  readonly target: number;
  readonly nodes: readonly { readonly index: number; readonly url: string }[];
  /** Per column (0..127), the registry indexes of its custodians under the current node set. */
  readonly custody: readonly (readonly number[])[];
  /** Per column, the next nodes in its rendezvous order: asked when a custodian does not answer (§10.1). */
  readonly standIns: readonly (readonly number[])[];
}

/** What `GET /v1/explorer/events` streams (server-sent events named by `type`). */
export type ExplorerEvent =
  | { readonly type: "batch"; readonly batch: ExplorerBatch }
  | { readonly type: "forget"; readonly key: string }
  | { readonly type: "column"; readonly root: string; readonly round: number; readonly outcome: ColumnOutcome };
