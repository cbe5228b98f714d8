import { buildResolved } from "./build-resolved.js";
import { checkRules } from "./config-rules.js";
import type { ConfigDiagnostic, ResolvedConfig } from "./config-types.js";
import { createEntries } from "./config-entries.js";
import { applyEnvOverrides } from "./env-overrides.js";
import { readToml } from "./read-toml.js";
import { applyEnvDefaults } from "./runtime-env.js";

/** Every diagnostic for a configuration, and the config when there are none. */
export interface ValidationResult {
  readonly config?: ResolvedConfig;
  readonly diagnostics: readonly ConfigDiagnostic[];
}

/** Options for `validateConfigText`. */
export interface ValidateOptions {
  /** The file `sourceFile` records; undefined when the text is not a file (defaults only). */
  readonly sourceFile?: string;
  /** Folder relative paths from the environment resolve against; the working directory by default. */
  readonly cwd?: string;
}

/**
 * Checks a TOML text merged with `BUILDPLANE_*` environment overrides and
 * returns every problem at once. It never throws for bad input, so the
 * `ValidateConfig` RPC and `buildplane config validate` can show all
 * diagnostics; `loadConfig` turns them into a `ConfigError`.
 */
export function validateConfigText(
  text: string,
  fileName: string,
  env: NodeJS.ProcessEnv = process.env,
  options: ValidateOptions = {},
): ValidationResult {
  const cwd = options.cwd ?? process.cwd();
  const entries = createEntries();
  applyEnvDefaults(env, cwd, entries);
  const diagnostics = [...readToml(text, fileName, env, entries)];
  if (diagnostics.length === 1 && diagnostics[0]?.message.startsWith("malformed toml")) return { diagnostics };
  diagnostics.push(...applyEnvOverrides(env, cwd, entries));
  diagnostics.push(...checkRules(entries, fileName, env));
  if (diagnostics.length > 0) return { diagnostics: sortDiagnostics(diagnostics) };
  return { config: buildResolved(entries, options.sourceFile, env, cwd), diagnostics: [] };
}

function sortDiagnostics(list: ConfigDiagnostic[]): ConfigDiagnostic[] {
  return list.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}
