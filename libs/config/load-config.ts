import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "./config-error.js";
import { envName } from "./config-schema.js";
import type { ResolvedConfig } from "./config-types.js";
import { expandPath } from "./config-entries.js";
import { validateConfigText } from "./validate-config.js";

/** Options for `loadConfig`. */
export interface LoadConfigOptions {
  /** The TOML file; undefined means defaults and environment only. */
  readonly file?: string;
  /** Environment overrides are read from here; `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Loads, validates, defaults and freezes the configuration once at start
 * (and on reload). Throws `ConfigError` listing every diagnostic; an
 * unreadable file is a diagnostic too.
 */
export function loadConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const file = options.file;
  let text = "";
  if (file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      throw new ConfigError([{ file, line: 0, column: 0, key: "", message: `cannot read the configuration file (${code})` }]);
    }
  }
  const result = validateConfigText(text, file ?? "defaults", env, { sourceFile: file });
  if (!result.config) throw new ConfigError(result.diagnostics);
  return result.config;
}

/**
 * The configuration file to use when none is named: `BUILDPLANE_CONFIG`,
 * else `<data_dir>/buildplane.toml` when it exists (data_dir from
 * `BUILDPLANE_SYSTEM_DATA_DIR` or `~/.buildplane`), else undefined.
 */
export function findConfigFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env["BUILDPLANE_CONFIG"];
  if (named) return named;
  const dataDir = expandPath(env[envName("system", "data_dir")] || "~/.buildplane", process.cwd(), env);
  const candidate = join(dataDir, "buildplane.toml");
  return existsSync(candidate) ? candidate : undefined;
}
