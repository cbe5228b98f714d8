import * as http from "node:http";
import * as https from "node:https";
import type { Readable } from "node:stream";

/** A request body: bytes, or a factory so a retry can send the same stream again. */
export type RequestBody = Buffer | (() => Readable);

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: RequestBody;
  readonly agent: http.Agent;
  readonly signal: AbortSignal | undefined;
  /** Idle socket timeout; a silent server fails the request instead of hanging it. */
  readonly timeoutMs: number;
}

/** A fully read response (registry answers are small: JSON, manifests, errors). */
export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

const maxResponseBytes = 8 * 1024 * 1024;

/**
 * One HTTP(S) exchange on `node:http`/`node:https`, because Node 20's global
 * fetch cannot take a custom CA or client certificate without undici's
 * dispatcher. Connection-level failures reject with the socket error (its
 * `code` tells the retry loop what happened).
 */
export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const mod = req.url.protocol === "https:" ? https : http;
    const body = req.body;
    const headers = { ...req.headers };
    if (Buffer.isBuffer(body)) headers["content-length"] = String(body.length);
    const out = mod.request(req.url, { method: req.method, headers, agent: req.agent, signal: req.signal, timeout: req.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > maxResponseBytes) {
          res.destroy(new Error(`response larger than ${maxResponseBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    out.on("timeout", () => out.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })));
    out.on("error", reject);
    if (body === undefined) out.end();
    else if (Buffer.isBuffer(body)) out.end(body);
    else {
      const stream = body();
      stream.on("error", (err) => out.destroy(err));
      stream.pipe(out);
    }
  });
}

/** The value of a response header as one string. */
export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
