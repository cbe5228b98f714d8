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
export function toConnectError(err: unknown, log: RpcLogger, procedure: string, options: ErrorMappingOptions = {}): ConnectError {
  if (err instanceof ConnectError) return withoutTransportHeaders(err);
  const full = diskFullMessage(err, options.dataDir);
  if (full !== undefined) {
    log.error("disk full", { procedure, error: describe(err) });
    return new ConnectError(full, Code.ResourceExhausted, undefined, undefined, err);
  }
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
export function createErrorInterceptor(log: RpcLogger, options: ErrorMappingOptions = {}): Interceptor {
  return (next) => async (req) => {
    const procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, log, procedure, options) };
    } catch (err) {
      throw toConnectError(err, log, procedure, options);
    }
  };
}

/** What the error mapping knows of the install. */
export interface ErrorMappingOptions {
  /** `[system] data_dir`, named when its disk is full. */
  readonly dataDir?: string | undefined;
}

async function* mapStreamErrors<T>(it: AsyncIterable<T>, log: RpcLogger, procedure: string, options: ErrorMappingOptions): AsyncIterable<T> {
  try {
    yield* it;
  } catch (err) {
    throw toConnectError(err, log, procedure, options);
  }
}

const diskFullText = /no space left on device|database or disk is full|disk quota exceeded/i;

/**
 * The message for an error caused by a full disk (ENOSPC or EDQUOT from
 * Node, "No space left on device" from git, SQLITE_FULL), naming the file
 * when the error does and the data dir; undefined for any other error.
 */
export function diskFullMessage(err: unknown, dataDir: string | undefined): string | undefined {
  // A domain error that already says what the caller did wrong keeps its code.
  if (isDomainError(err) && !["unavailable", "internal", "unknown"].includes(err.code)) return undefined;
  const e = err as { code?: unknown; path?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : String(err);
  if (!["ENOSPC", "EDQUOT", "SQLITE_FULL"].includes(code) && !diskFullText.test(message)) return undefined;
  // A domain error's message is written for callers; another error's is not, beyond the file it names.
  const what = isDomainError(err) ? ` (${message})` : typeof e?.path === "string" ? ` writing ${e.path}` : "";
  const where = dataDir ? `the disk of the data dir ${dataDir} ([system] data_dir) is full` : "the disk is full";
  return `${where}: no space left on device${what}; free space there and retry`;
}

/** Headers of a protocol response, never application metadata. */
const transportHeader = /^(:|content-|accept-|grpc-|connect-|te$|trailer$|transfer-encoding$|connection$|keep-alive$|upgrade$|date$|server$|vary$)/i;

/**
 * An error relayed from another service's call keeps the headers of that
 * call's response as its metadata (`content-length`, `content-type` of a
 * unary error body…). Sent again as trailers of this response they break
 * it: a `content-length` in gRPC trailers makes the client reset the
 * stream with NGHTTP2_PROTOCOL_ERROR instead of reading the status. Only
 * application metadata (such as `retry-after`) is passed on.
 */
export function withoutTransportHeaders(err: ConnectError): ConnectError {
  const kept = new Headers();
  let dropped = false;
  err.metadata.forEach((value, key) => {
    if (transportHeader.test(key)) dropped = true;
    else kept.append(key, value);
  });
  if (!dropped) return err;
  const copy = new ConnectError(err.rawMessage, err.code, kept, undefined, err.cause);
  copy.details.push(...err.details);
  if (err.stack !== undefined) copy.stack = err.stack;
  return copy;
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
