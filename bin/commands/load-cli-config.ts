import { ConfigError } from "../../libs/config/config-error.js";
import type { ResolvedConfig } from "../../libs/config/config-types.js";
import { findConfigFile, loadConfig } from "../../libs/config/load-config.js";
import { CliExit, exitCodes } from "./exit.js";

/**
 * Loads the configuration for a CLI command: `file`, else
 * `BUILDPLANE_CONFIG`, else `<data_dir>/buildplane.toml` when it exists,
 * else defaults; environment overrides apply. A configuration error ends
 * the CLI with exit code 2 and every diagnostic.
 */
export function loadCliConfig(file?: string, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  try {
    return loadConfig({ file: file ?? findConfigFile(env), env });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(exitCodes.usage, err.message);
    throw err;
  }
}
