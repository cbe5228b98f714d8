import { readFileSync } from "node:fs";
import { stringify } from "smol-toml";
import { formatDiagnostic } from "../../libs/config/config-error.js";
import type { ConfigDiagnostic, ResolvedConfig } from "../../libs/config/config-types.js";
import { redactedTable } from "../../libs/config/redact.js";
import { validateConfigText } from "../../libs/config/validate-config.js";
import type { ConfigCommandIo } from "./config.js";
import { CliExit, exitCodes } from "./exit.js";
import { loadCliConfig } from "./load-cli-config.js";

/** `buildplane config validate <file>`: `<file>: ok`, or every diagnostic and exit 2. */
export function validateConfigFile(file: string, io: ConfigCommandIo): void {
  const diagnostics = validateFile(file, io.env);
  if (diagnostics.length === 0) {
    io.out(`${file}: ok\n`);
    return;
  }
  for (const d of diagnostics) io.err(`${formatDiagnostic(d)}\n`);
  const n = diagnostics.length;
  throw new CliExit(exitCodes.usage, `${file} is not valid (${n} problem${n === 1 ? "" : "s"})`);
}

/** `buildplane config show`: the effective configuration as TOML or JSON, secrets as `***`. */
export function showConfig(opts: { config?: string; json?: boolean }, io: ConfigCommandIo): void {
  const resolved = loadCliConfig(opts.config, io.env);
  io.out(opts.json ? `${JSON.stringify(showTable(resolved), null, 2)}\n` : renderToml(resolved));
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
