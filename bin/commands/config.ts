import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { stringify } from "smol-toml";
import { ConfigError, formatDiagnostic } from "../../libs/config/config-error.js";
import type { ConfigDiagnostic, ResolvedConfig } from "../../libs/config/config-types.js";
import { findConfigFile, loadConfig } from "../../libs/config/load-config.js";
import { redactedTable } from "../../libs/config/redact.js";
import { validateConfigText } from "../../libs/config/validate-config.js";
import { CliExit, exitCodes } from "./exit.js";

/** Where the config commands write and what environment they read; the process by default. */
export interface ConfigCommandIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

const processIo: ConfigCommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
};

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

/** Registers `buildplane config validate` and `buildplane config show`. */
export function registerConfigCommands(program: Command, io: ConfigCommandIo = processIo): void {
  const config = program.command("config").description("Check and show the configuration.");

  config
    .command("validate")
    .description("Check a configuration file (with BUILDPLANE_* environment overrides); exit 2 when it is not valid.")
    .argument("<file>", "TOML configuration file")
    .action((file: string) => {
      const diagnostics = validateFile(file, io.env);
      if (diagnostics.length === 0) {
        io.out(`${file}: ok\n`);
        return;
      }
      for (const d of diagnostics) io.err(`${formatDiagnostic(d)}\n`);
      const n = diagnostics.length;
      throw new CliExit(exitCodes.usage, `${file} is not valid (${n} problem${n === 1 ? "" : "s"})`);
    });

  config
    .command("show")
    .description("Print the effective configuration, secrets shown as ***.")
    .option("--config <file>", "TOML configuration file (default: $BUILDPLANE_CONFIG, else <data_dir>/buildplane.toml)")
    .option("--json", "print JSON instead of TOML")
    .action((opts: { config?: string; json?: boolean }) => {
      const resolved = loadCliConfig(opts.config, io.env);
      io.out(opts.json ? `${JSON.stringify(showTable(resolved), null, 2)}\n` : renderToml(resolved));
    });
}

function validateFile(file: string, env: NodeJS.ProcessEnv): readonly ConfigDiagnostic[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    return [{ file, line: 0, column: 0, key: "", message: `cannot read the configuration file (${code})` }];
  }
  return validateConfigText(text, file, env, { sourceFile: file }).diagnostics;
}

function showTable(c: ResolvedConfig): Record<string, unknown> {
  const table: Record<string, unknown> = { ...redactedTable(c) };
  if (Object.keys(c.gitAuth).length === 0) delete table["git_auth"];
  return table;
}

function renderToml(c: ResolvedConfig): string {
  const source = c.sourceFile ?? "defaults and environment only";
  return `# effective configuration (${source}); secrets are shown as ***\n${stringify(showTable(c))}\n`;
}
