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

const unavailableNodeCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const unavailableMessages = [
  "connection terminated",
  "timeout exceeded when trying to connect",
  "query read timeout",
  "is not queryable",
  "connection ended",
  "cannot use a pool after calling end",
];

/**
 * True when `err` says the database is away or too slow rather than that the
 * request was wrong: a refused or cut connection, a Postgres connection
 * exception (SQLSTATE class 08), a server shutting down (57P0x), a statement
 * or query timeout (57014), or SQLite still locked after its busy timeout.
 * Such a write may succeed when retried.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (unavailableNodeCodes.has(code)) return true;
    if (code.startsWith("08") || code.startsWith("57P") || code === "57014") return true;
    if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return true;
  }
  const message = err.message.toLowerCase();
  return unavailableMessages.some((m) => message.includes(m));
}
