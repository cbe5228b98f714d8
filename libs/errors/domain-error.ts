/**
 * The RPC status a domain error maps to. The names are Connect's `Code`
 * names in lower camel case, so domain code needs no RPC import; the mapping
 * to a `ConnectError` happens in exactly one place (`libs/rpc/errors.ts`).
 */
export type ErrorCode =
  | "canceled"
  | "unknown"
  | "invalidArgument"
  | "deadlineExceeded"
  | "notFound"
  | "alreadyExists"
  | "permissionDenied"
  | "resourceExhausted"
  | "failedPrecondition"
  | "aborted"
  | "outOfRange"
  | "unimplemented"
  | "internal"
  | "unavailable"
  | "dataLoss"
  | "unauthenticated";

/**
 * Base of every error that domain code throws on purpose. It carries the RPC
 * code it stands for, and its message names the offending input and what was
 * expected, in lower case: `builder.mode "kanico" is not valid: expected …`.
 * Subclasses add the subject as typed fields (`RefNotFoundError {repo, ref}`).
 */
export class DomainError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is a `DomainError`. */
export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

const codes: ReadonlySet<string> = new Set<ErrorCode>([
  "canceled", "unknown", "invalidArgument", "deadlineExceeded", "notFound", "alreadyExists",
  "permissionDenied", "resourceExhausted", "failedPrecondition", "aborted", "outOfRange",
  "unimplemented", "internal", "unavailable", "dataLoss", "unauthenticated",
]);

/** True when `s` is one of the `ErrorCode` names. */
export function isErrorCode(s: string): s is ErrorCode {
  return codes.has(s);
}

/**
 * The wire name of a domain code, as records and `Failed` events carry it:
 * `deadlineExceeded` → `deadline_exceeded`, the gRPC status name of the
 * Connect code of that name (libs/rpc/code-names.ts checks they agree).
 */
export function errorCodeName(code: ErrorCode): string {
  return code.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * The domain code of a wire name such as `deadline_exceeded`; `unknown` for
 * any other string, never a throw: names come from stored records and from
 * other processes.
 */
export function errorCodeFromName(name: string): ErrorCode {
  const camel = name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()).replace(/^[A-Z]/, (c) => c.toLowerCase());
  return isErrorCode(camel) ? camel : "unknown";
}

/**
 * The domain error `err` stands for, where domain code must classify any
 * failure by its code: a `DomainError` as it is; an abort (an `AbortError`
 * or `TimeoutError`, as a stopped signal rejects with) as `canceled`; any
 * other error as `code` with its message, the error kept as the cause.
 */
export function domainErrorOf(err: unknown, code: ErrorCode = "unknown"): DomainError {
  if (isDomainError(err)) return err;
  if (err instanceof Error) {
    if (err.name === "AbortError" || err.name === "TimeoutError") return new DomainError("canceled", err.message, { cause: err });
    return new DomainError(code, err.message, { cause: err });
  }
  return new DomainError(code, String(err), { cause: err });
}
