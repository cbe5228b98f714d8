import type * as http from "node:http";
import type * as http2 from "node:http2";
import { isDomainError, type ErrorCode } from "../../../libs/errors/domain-error.js";

export type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

const statusByCode: Partial<Record<ErrorCode, number>> = {
  invalidArgument: 400,
  failedPrecondition: 400,
  outOfRange: 400,
  unauthenticated: 401,
  permissionDenied: 403,
  notFound: 404,
  alreadyExists: 409,
  resourceExhausted: 413,
  canceled: 499,
  unavailable: 503,
  deadlineExceeded: 504,
};

/**
 * The HTTP status of a failure: the domain code decides it (400 bad request,
 * 401 token, 413 too large…) where OpenRun answers 500 for everything; an
 * error nobody classified is a 500 with a bare message.
 */
export function httpStatusOf(err: unknown): { status: number; message: string } {
  if (isDomainError(err)) return { status: statusByCode[err.code] ?? 500, message: err.message };
  return { status: 500, message: "internal error" };
}

/**
 * Writes a text/plain answer once. A request body still being sent is
 * drained for up to 5 s (then the request is destroyed), so the client reads
 * the status instead of a connection reset.
 */
export function answer(req: AnyRequest, res: AnyResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  const body = message === "" ? "" : `${message}\n`;
  res.writeHead(status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(body);
  if (!req.complete) {
    req.resume();
    const t = setTimeout(() => req.destroy(), 5000);
    t.unref();
    req.once("end", () => clearTimeout(t));
  }
}
