import { type Erasure, type ErasureBackend, erasureOver } from "./erasure.js";
import { NativeError } from "./errors.js";
import { fallbackKernel } from "./fallback.js";
import { ADDON_PATH, type ErasureCore, loadAddon } from "./kernel.js";

export interface ErasureOptions {
  /**
   * `"native"` requires the addon (CELLAR_ERR_NATIVE_UNAVAILABLE when it is not built), `"js"`
   * takes the TypeScript fallback, `"auto"` the addon when it loads. Default: `CELLAR_NATIVE`
   * from the environment (`1` native, `0` js), otherwise `"auto"`.
   */
  readonly backend?: ErasureBackend | "auto";
  /** The environment read for CELLAR_NATIVE. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where the compiled addon is. Default: `native/build/Release/cellar_native.node`. */
  readonly addonPath?: string;
}

export interface ErasureModules {
  /** Told which backend serves, and why, once per created Erasure. */
  readonly log?: (message: string) => void;
}

function wanted(options: ErasureOptions): ErasureBackend | "auto" {
  if (options.backend !== undefined) return options.backend;
  const flag = (options.env ?? process.env).CELLAR_NATIVE;
  if (flag === "1") return "native";
  if (flag === "0") return "js";
  if (flag === undefined || flag === "") return "auto";
  throw new NativeError("CELLAR_ERR_NATIVE_UNAVAILABLE", `CELLAR_NATIVE must be 0 or 1, got ${JSON.stringify(flag)}`, {
    value: flag,
  });
}

/**
 * Chooses and creates the erasure backend: the compiled addon, or the TypeScript fallback when
 * the addon is not built (or CELLAR_NATIVE=0). The choice is reported through `modules.log`.
 */
export function createErasure(options: ErasureOptions = {}, modules: ErasureModules = {}): Erasure {
  const want = wanted(options);
  if (want === "js") {
    modules.log?.("erasure recovery: TypeScript fallback (chosen by configuration)");
    return erasureOver("js", fallbackKernel);
  }
  const path = options.addonPath ?? ADDON_PATH;
  const addon: ErasureCore | Error = loadAddon(path);
  if (!(addon instanceof Error)) {
    modules.log?.(`erasure recovery: native addon (${path})`);
    return erasureOver("native", addon);
  }
  if (want === "native") {
    throw new NativeError(
      "CELLAR_ERR_NATIVE_UNAVAILABLE",
      `the native erasure addon is required (CELLAR_NATIVE=1) but does not load: ${addon.message}`,
      { path },
      { cause: addon },
    );
  }
  modules.log?.(
    `erasure recovery: TypeScript fallback (the native addon does not load: ${addon.message.split("\n")[0]})`,
  );
  return erasureOver("js", fallbackKernel);
}

let shared: Erasure | undefined;

/**
 * The process-wide Erasure: created (and its choice logged) on first use, shared after; later
 * calls' options and logger are not consulted.
 */
export function sharedErasure(modules: ErasureModules = {}): Erasure {
  shared ??= createErasure({}, modules);
  return shared;
}
