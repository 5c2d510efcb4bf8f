/**
 * The explorer: a web page that is itself a light client. Served by the light node and the
 * disperser, it lists their recent batches live and, for a chosen batch, draws the grid of
 * blobs × 128 columns while it samples the batch from the storage nodes and verifies every cell
 * proof in the browser (WebAssembly). This package holds the page (built into `dist/web`) and the
 * server side: `registerExplorer` adds the page and its JSON and event routes to a role's app, and
 * `ExplorerFeed` is where the role records what happens to its batches.
 *
 * @example
 * ```ts
 * import { ExplorerFeed, registerExplorer } from "@cellar/explorer";
 * const feed = new ExplorerFeed();
 * registerExplorer(app, { source: "light", feed, nodes: () => nodeSet });
 * feed.update(root, { status: "sampling" });
 * ```
 *
 * @packageDocumentation
 */
export { DEFAULT_ASSETS_DIR } from "./assets.js";
export { ExplorerFeed, type ExplorerFeedOptions } from "./feed.js";
export { type ExplorerOptions, registerExplorer } from "./register.js";
export type {
  BatchStage,
  ColumnOutcome,
  ColumnState,
  ExplorerBatch,
  ExplorerEvent,
  ExplorerNetwork,
  SamplingView,
} from "./types.js";
