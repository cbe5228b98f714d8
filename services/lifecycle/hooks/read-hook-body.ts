import type * as http from "node:http";
import type * as http2 from "node:http2";

/** Why a webhook body could not be read: too large (413) or too slow (408). */
export class HookBodyError extends Error {
  constructor(readonly status: 408 | 413, message: string) {
    super(message);
    this.name = "HookBodyError";
  }
}

/**
 * Reads a request body of at most `maxBytes` within `timeoutMs`. A declared
 * `content-length` over the limit is refused before anything is read; a body
 * that grows past it, or is still arriving at the deadline, is cut.
 */
export function readHookBody(req: http.IncomingMessage | http2.Http2ServerRequest, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "NaN");
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new HookBodyError(413, `webhook body of ${declared} bytes is over [hooks] max_body_bytes (${maxBytes})`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: HookBodyError | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      if (err) {
        req.resume();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) return finish(new HookBodyError(413, `webhook body is over [hooks] max_body_bytes (${maxBytes})`));
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (): void => finish(new HookBodyError(408, "webhook body was cut off before its end"));
    const timer = setTimeout(() => finish(new HookBodyError(408, `webhook body did not arrive within [hooks] body_timeout_secs (${timeoutMs / 1000} s)`)), timeoutMs);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
