/**
 * Something a role follows while it runs: the node set (a file, the L1 registry), the dispersers
 * the registry lists, the batches the L1 inbox records. `follow` starts delivering values to
 * `apply` (a failure goes to `onError`, and the feed keeps going) and returns the function that
 * stops it. The roles start their feeds in `start()` and stop them in `stop()`, so whoever embeds
 * a role as a library gets the same following the CLI does.
 */
export interface Feed<T> {
  follow(apply: (value: T) => void, onError: (err: unknown) => void): () => void;
}
