import { DomainError } from "../errors/domain-error.js";

/** `[metadata] db_connection` is neither `sqlite:<path>` nor `postgres://…`. */
export class InvalidDbConnectionError extends DomainError {
  constructor(readonly shown: string, reason: string) {
    super("invalidArgument", `metadata.db_connection "${shown}" is not valid: ${reason}`);
  }
}

/** The metadata database could not be reached (yet). */
export class DatabaseUnreachableError extends DomainError {
  constructor(readonly target: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super("unavailable", `metadata database ${target} is unreachable: ${why}`, { cause });
  }
}
