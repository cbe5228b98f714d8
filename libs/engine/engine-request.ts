import type { Readable } from "node:stream";
import { isDomainError } from "../errors/domain-error.js";
import {
  EngineOperationCanceledError,
  EngineRequestError,
  EngineUnavailableError,
  ImageNotFoundError,
} from "./engine-errors.js";

/** The one method of docker-modem we call (dockerode's `modem` is typed `any`). */
export interface Modem {
  dial(options: DialOptions, callback: (err: unknown, data: unknown) => void): void;
}

/** docker-modem's request description; `path` ends in `?` when `options` is a query. */
export interface DialOptions {
  readonly path: string;
  readonly method: "GET" | "POST" | "DELETE" | "HEAD";
  readonly options?: Record<string, unknown>;
  readonly file?: Readable;
  readonly isStream?: boolean;
  readonly abortSignal?: AbortSignal;
  readonly statusCodes: Readonly<Record<number, true | string>>;
}

/** Sends one Engine API request; resolves with the parsed JSON or, for `isStream`, the response stream. */
export function dial(modem: Modem, options: DialOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    modem.dial({ ...options, statusCodes: { ...options.statusCodes } }, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

/** What an engine failure is about, for its message. */
export interface FailureContext {
  readonly operation: string;
  readonly endpoint: string;
  readonly signal?: AbortSignal | undefined;
  /** The image a 404 is about; without it a 404 is a refused request. */
  readonly image?: string;
}

const UNREACHABLE = new Set(["ENOENT", "ECONNREFUSED", "EACCES", "EPERM", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET", "EPIPE"]);

/**
 * Turns what docker-modem rejects with into a typed error: no socket or
 * connection → `EngineUnavailableError`; our own abort → canceled; 404 on an
 * image → `ImageNotFoundError`; other HTTP statuses → `EngineRequestError`
 * carrying the engine's message. Errors already typed pass through.
 */
export function classifyEngineError(err: unknown, context: FailureContext): Error {
  if (isDomainError(err)) return err;
  if (context.signal?.aborted === true) return new EngineOperationCanceledError(context.operation);
  if (!(err instanceof Error)) return new EngineRequestError(context.operation, 0, String(err));
  const e = err as Error & { code?: unknown; statusCode?: unknown; json?: unknown };
  if (typeof e.code === "string" && UNREACHABLE.has(e.code)) {
    return new EngineUnavailableError(context.endpoint, `${e.code}`, { cause: err });
  }
  if (e.name === "AbortError") return new EngineOperationCanceledError(context.operation);
  if (typeof e.statusCode === "number") {
    if (e.statusCode === 404 && context.image !== undefined) return new ImageNotFoundError(context.image);
    return new EngineRequestError(context.operation, e.statusCode, engineMessage(e.json, e.message));
  }
  return new EngineRequestError(context.operation, 0, err.message);
}

/** The engine's `{"message": …}` body, or docker-modem's message without its prefix. */
export function engineMessage(json: unknown, fallback: string): string {
  if (typeof json === "object" && json !== null && "message" in json && typeof json.message === "string") {
    return json.message.trim();
  }
  if (typeof json === "string" && json.trim() !== "") return json.trim();
  if (Buffer.isBuffer(json)) return json.toString("utf8").trim();
  return fallback.replace(/^\(HTTP code \d+\) [a-z ]+ - /, "").trim();
}
