// KZG in a worker: loading the trusted setup into the WebAssembly module takes seconds, and each
// verification a few milliseconds; here neither blocks the page. Messages in: a verification
// request {id, commitments, columns, cells, proofs} (bytes); out: {type: "ready"} once loaded,
// {type: "error", message} if loading failed, and {id, ok} per request.
import { loadKZG } from "kzg-wasm";
import { bytesToHex } from "./manifest-check.js";

export interface VerifyRequest {
  readonly id: number;
  readonly commitments: Uint8Array[];
  readonly columns: number[];
  readonly cells: Uint8Array[];
  readonly proofs: Uint8Array[];
}

export type WorkerMessage =
  | { readonly type: "ready" }
  | { readonly type: "error"; readonly message: string }
  | { readonly type: "result"; readonly id: number; readonly ok: boolean; readonly error?: string };

const scope = self as unknown as {
  postMessage(message: WorkerMessage): void;
  onmessage: ((e: MessageEvent<VerifyRequest>) => void) | null;
};

const ready = loadKZG(0);
ready.then(
  () => scope.postMessage({ type: "ready" }),
  (err: unknown) => scope.postMessage({ type: "error", message: (err as Error).message }),
);

scope.onmessage = (e) => {
  const r = e.data;
  void ready.then((kzg) => {
    try {
      const ok = kzg.verifyCellKzgProofBatch(
        r.commitments.map(bytesToHex),
        r.columns,
        r.cells.map(bytesToHex),
        r.proofs.map(bytesToHex),
      );
      scope.postMessage({ type: "result", id: r.id, ok });
    } catch (err) {
      // Malformed input (a proof that is not a curve point, say) is a failed proof, not a crash.
      scope.postMessage({ type: "result", id: r.id, ok: false, error: (err as Error).message });
    }
  });
};
