import { watch, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { validateConfigText, type ValidationResult } from "./validate-config.js";

/** Options for `watchConfig`. */
export interface WatchConfigOptions {
  /** Environment overrides; `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Quiet time after the last file event before reloading (ms); 100 by default. */
  readonly debounceMs?: number;
}

/**
 * Watches a configuration file and reports each change of its content as a
 * validation result: `config` set when the new text is valid, else the
 * diagnostics (the caller keeps its old config). The folder is watched,
 * not the file, and every event in it leads to a re-read: editors that save
 * by renaming a new file over the old one are seen, and so is a Kubernetes
 * ConfigMap volume, where the file is a symlink through `..data` and kubelet
 * swaps `..data` to a new folder (the events name `..data_tmp` and
 * `..data`, never the file). Events are debounced; an unchanged text is not
 * reported. The watch keeps the process alive until `signal` aborts.
 */
export function watchConfig(
  file: string,
  onChange: (result: ValidationResult) => void,
  signal: AbortSignal,
  options: WatchConfigOptions = {},
): void {
  if (signal.aborted) return;
  const path = resolve(file);
  const env = options.env ?? process.env;
  const debounceMs = options.debounceMs ?? 100;
  let last = readText(path);
  let timer: NodeJS.Timeout | undefined;

  const reload = (): void => {
    timer = undefined;
    if (signal.aborted) return;
    const text = readText(path);
    if (text === undefined || text === last) return; // mid-replace or no change: wait for the next event
    last = text;
    onChange(validateConfigText(text, file, env, { sourceFile: file }));
  };

  const watcher = watch(dirname(path), () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  });
  watcher.on("error", () => watcher.close());
  signal.addEventListener(
    "abort",
    () => {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
    { once: true },
  );
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
