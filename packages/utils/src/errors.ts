/**
 * The base of every error Cellar throws on purpose. `code` is stable and machine-readable
 * (`CELLAR_ERR_<AREA>_<REASON>`); `context` carries the structured details (indexes, lengths)
 * a caller or a log needs; `cause` keeps the underlying error when there is one.
 */
export class CellarError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: Code, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }

  toJSON(): { code: Code; message: string; context: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, context: this.context };
  }
}

/** Narrows an unknown thrown value to a CellarError, optionally with a given code. */
export function isCellarError(err: unknown, code?: string): err is CellarError {
  return err instanceof CellarError && (code === undefined || err.code === code);
}
