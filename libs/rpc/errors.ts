import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { isDomainError, type ErrorCode } from "../errors/domain-error.js";
import type { RpcLogger } from "./logger.js";

const codeByName: Readonly<Record<ErrorCode, Code>> = {
  canceled: Code.Canceled,
  unknown: Code.Unknown,
  invalidArgument: Code.InvalidArgument,
  deadlineExceeded: Code.DeadlineExceeded,
  notFound: Code.NotFound,
  alreadyExists: Code.AlreadyExists,
  permissionDenied: Code.PermissionDenied,
  resourceExhausted: Code.ResourceExhausted,
  failedPrecondition: Code.FailedPrecondition,
  aborted: Code.Aborted,
  outOfRange: Code.OutOfRange,
  unimplemented: Code.Unimplemented,
  internal: Code.Internal,
  unavailable: Code.Unavailable,
  dataLoss: Code.DataLoss,
  unauthenticated: Code.Unauthenticated,
};

/** The message clients see for an error nobody classified. */
export const internalErrorMessage = "internal error";

/**
 * The one place where errors become RPC statuses: a `DomainError` keeps its
 * message and gets the `Code` its `code` names; a `ConnectError` passes
 * through; anything else is a bug, logged here and sent as a bare
 * `Internal "internal error"` so no internal detail leaks to callers.
 */
export function toConnectError(err: unknown, log: RpcLogger, procedure: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isDomainError(err)) return new ConnectError(err.message, codeByName[err.code], retryAfter(err), undefined, err);
  log.error("unexpected error in rpc handler", { procedure, error: describe(err) });
  return new ConnectError(internalErrorMessage, Code.Internal, undefined, undefined, err);
}

/** The Connect `Code` a domain error code stands for. */
export function connectCodeOf(code: ErrorCode): Code {
  return codeByName[code];
}

/**
 * A server interceptor applying `toConnectError` to every failure of a
 * handler, including failures in the middle of a response stream.
 */
export function createErrorInterceptor(log: RpcLogger): Interceptor {
  return (next) => async (req) => {
    const procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, log, procedure) };
    } catch (err) {
      throw toConnectError(err, log, procedure);
    }
  };
}

async function* mapStreamErrors<T>(it: AsyncIterable<T>, log: RpcLogger, procedure: string): AsyncIterable<T> {
  try {
    yield* it;
  } catch (err) {
    throw toConnectError(err, log, procedure);
  }
}

/** A `retry-after` trailer (seconds) for a domain error carrying `retryAfterSecs`, e.g. a full build queue. */
function retryAfter(err: object): Record<string, string> | undefined {
  const secs = (err as { retryAfterSecs?: unknown }).retryAfterSecs;
  return typeof secs === "number" && secs > 0 ? { "retry-after": String(Math.ceil(secs)) } : undefined;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
