import { isDomainError } from "../../libs/errors/domain-error.js";

/** The CLI's exit codes. */
export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * An error that ends the CLI with a given exit code after printing its
 * message (configuration errors exit 2, runtime failures 1).
 */
export class CliExit extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
    this.name = "CliExit";
  }
}

/** Prints `err` on stderr and returns the exit code it stands for. */
export function reportFailure(err: unknown): number {
  if (err instanceof CliExit) {
    if (err.message) process.stderr.write(`buildplane: ${err.message}\n`);
    return err.exitCode;
  }
  if (isDomainError(err)) {
    process.stderr.write(`buildplane: ${err.message}\n`);
    return err.code === "invalidArgument" ? exitCodes.usage : exitCodes.failure;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`buildplane: ${message}\n`);
  return exitCodes.failure;
}
