import { DomainError } from "../errors/domain-error.js";
import type { ConfigDiagnostic } from "./config-types.js";

/**
 * `file:line:col: key: message`, the one way a diagnostic is printed; the
 * position is left out when unknown (line 0), as for environment variables.
 */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  return d.key ? `${where}: ${d.key}: ${d.message}` : `${where}: ${d.message}`;
}

/**
 * Thrown when a configuration does not load. It carries every diagnostic,
 * not just the first, so one run shows everything to fix.
 */
export class ConfigError extends DomainError {
  readonly diagnostics: readonly ConfigDiagnostic[];

  constructor(diagnostics: readonly ConfigDiagnostic[]) {
    super("invalidArgument", diagnostics.map(formatDiagnostic).join("\n"));
    this.diagnostics = diagnostics;
  }
}
