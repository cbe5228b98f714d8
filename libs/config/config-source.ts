import type { ConfigDiagnostic, ResolvedConfig } from "./config-types.js";
import { findConfigFile, loadConfig } from "./load-config.js";
import { watchConfig } from "./watch-config.js";

/** What a subscriber hears after each change of the file. */
export interface ConfigUpdate {
  /** The configuration in force: the new one, or the old one when the change was rejected. */
  readonly config: ResolvedConfig;
  /** Set when the change was rejected; empty when it was applied. */
  readonly rejected: readonly ConfigDiagnostic[];
}

/**
 * The live configuration of a process: the value in force and change
 * notifications. The config service and every other consumer read it here
 * instead of each loading and watching the file.
 */
export interface ConfigSource {
  current(): ResolvedConfig;
  /** Calls `listener` after each change; returns the function that unsubscribes. */
  subscribe(listener: (update: ConfigUpdate) => void): () => void;
}

/** Options for `openConfigSource`. */
export interface OpenConfigSourceOptions {
  /** The file; undefined means `findConfigFile(env)`. */
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Stops watching. Without it (or without a file) the config never changes. */
  readonly signal?: AbortSignal;
  readonly debounceMs?: number;
}

/**
 * Loads the configuration (throwing `ConfigError` when it is not valid) and
 * watches its file: a valid change replaces it, an invalid one keeps the
 * old config and is reported to subscribers as `rejected`.
 */
export function openConfigSource(options: OpenConfigSourceOptions = {}): ConfigSource {
  const env = options.env ?? process.env;
  const file = options.file ?? findConfigFile(env);
  let config = loadConfig({ file, env });
  const listeners = new Set<(update: ConfigUpdate) => void>();
  if (file !== undefined && options.signal) {
    watchConfig(
      file,
      (result) => {
        if (result.config) config = result.config;
        const update: ConfigUpdate = { config, rejected: result.config ? [] : result.diagnostics };
        for (const l of [...listeners]) l(update);
      },
      options.signal,
      { env, debounceMs: options.debounceMs },
    );
  }
  return {
    current: () => config,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A source that never changes, for tests and one-shot commands. */
export function staticConfigSource(config: ResolvedConfig): ConfigSource {
  return { current: () => config, subscribe: () => () => undefined };
}
