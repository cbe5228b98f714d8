import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import busboy from "busboy";
import { DomainError } from "../../../libs/errors/domain-error.js";
import type { Secret } from "../../../libs/secret/secret.js";
import type { BuildSlots } from "../build-slots.js";
import { UploadTooLargeError } from "../delegate/delegate-errors.js";
import { checkNodePush, DelegatedBuildsDisabledError } from "../delegate/node-guard.js";
import type { BuildJob, ImageBuilder } from "../image-builder.js";
import { checkBearer } from "./bearer-check.js";
import { answer, httpStatusOf, type AnyRequest, type AnyResponse } from "./http-answer.js";
import { OpenRunRequestError, parseOpenRunMeta, type OpenRunBuildSpec } from "./openrun-meta.js";
import { defaultTarLimits, guardTar, UnsafeArchiveError, type TarLimits } from "./tar-guard.js";

export interface OpenRunHandlerDeps {
  /** `[system] builder_auth_token`; unset refuses every request. */
  readonly token: Secret | undefined;
  /** `[security] admin_over_tcp`; off refuses every request with 403. */
  readonly adminOverTcp: boolean;
  /** The node's builder mode and its build slots, as the gRPC path uses them. */
  readonly builder: ImageBuilder;
  readonly slots: BuildSlots;
  readonly timeoutSecs: number;
  /** `[builder] max_upload_bytes`: the compressed upload. */
  readonly maxUploadBytes: number;
  readonly tarLimits?: TarLimits;
  /** `[builder] allowed_registries`: the only registry hosts pushed to; empty allows any. */
  readonly allowedRegistries?: readonly string[];
  /** Build output lines, for the node's own log. */
  readonly onLog?: (buildId: string, text: string) => void;
}

const metaLimit = 1024 * 1024;

/**
 * The handler of OpenRun's `POST /_openrun/delegate_build` on a builder
 * node: the token is checked (constant time) before the body is read, the
 * multipart body is streamed (`meta` JSON, then `file` tar.gz), the archive
 * is gunzipped and re-streamed through `guardTar` straight into the build,
 * and the image is built through the same mode and slots as gRPC builds and
 * pushed to the request's registry. Answers: 200 empty on success, 400 bad
 * request, 401 token, 403 builds over TCP disabled, 405 method, 413 too
 * large, 5xx build failures; the caller going away cancels the build.
 */
export function createOpenRunDelegateHandler(deps: OpenRunHandlerDeps): (req: AnyRequest, res: AnyResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      const { status, message } = httpStatusOf(err);
      answer(req, res, status, message, status === 401 ? { "www-authenticate": 'Bearer realm="buildplane"' } : {});
    });
  };
}

async function handle(deps: OpenRunHandlerDeps, req: AnyRequest, res: AnyResponse): Promise<void> {
  if (req.method !== "POST") return answer(req, res, 405, "only POST is allowed on /_openrun/delegate_build", { allow: "POST" });
  if (!deps.adminOverTcp) throw new DelegatedBuildsDisabledError();
  checkBearer(header(req, "authorization"), deps.token);
  const length = Number(header(req, "content-length") ?? "0");
  if (length > deps.maxUploadBytes + metaLimit) throw new UploadTooLargeError(deps.maxUploadBytes);
  const type = header(req, "content-type") ?? "";
  if (!/^multipart\/form-data/i.test(type)) throw new OpenRunRequestError(`content-type ${JSON.stringify(type)} is not valid: expected multipart/form-data`);
  if (!/boundary=/i.test(type)) throw new OpenRunRequestError("content-type multipart/form-data has no boundary");

  const stop = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) stop.abort(new DomainError("canceled", "the sender of the delegated build went away"));
  });
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    let spec: OpenRunBuildSpec | undefined;
    let build: Promise<void> | undefined;
    let parsed = false;
    let received = 0;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      req.unpipe();
      stop.abort(err);
      reject(err);
    };
    const finishIfDone = (): void => {
      if (failed || !parsed) return;
      if (!spec) return fail(new OpenRunRequestError("the request has no meta part"));
      if (!build) return fail(new OpenRunRequestError("the request has no file part (the build context as tar.gz)"));
      build.then(resolve, fail);
    };
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers as Record<string, string>, limits: { fieldSize: metaLimit, fileSize: deps.maxUploadBytes, parts: 16 } });
    } catch (err) {
      throw new OpenRunRequestError(`multipart body cannot be read: ${(err as Error).message}`);
    }
    const onMeta = (text: string): void => {
      if (spec) return fail(new OpenRunRequestError("the request has more than one meta part"));
      try {
        const parsed = parseOpenRunMeta(text);
        checkNodePush(parsed.reference, parsed.registry.url, deps.allowedRegistries ?? []);
        spec = parsed;
      } catch (err) {
        fail(err);
      }
    };
    bb.on("field", (name, value, info) => {
      if (name !== "meta") return;
      if (info.valueTruncated) return fail(new OpenRunRequestError(`meta part is larger than ${metaLimit} bytes`));
      onMeta(value);
    });
    bb.on("file", (name, stream) => {
      if (failed) return void stream.resume();
      if (name === "meta") return void collect(stream, metaLimit).then(onMeta, fail);
      if (name !== "file") return void stream.resume();
      if (!spec) return (stream.resume(), fail(new OpenRunRequestError("the meta part must come before the file part")));
      if (build) return (stream.resume(), fail(new OpenRunRequestError("the request has more than one file part")));
      stream.on("limit", () => fail(new UploadTooLargeError(deps.maxUploadBytes)));
      build = runBuild(deps, spec, stream, stop.signal);
      build.catch(fail);
    });
    bb.on("close", () => {
      parsed = true;
      finishIfDone();
    });
    bb.on("error", (err: Error) => fail(new OpenRunRequestError(`multipart body cannot be read: ${err.message}`)));
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > deps.maxUploadBytes + metaLimit) fail(new UploadTooLargeError(deps.maxUploadBytes));
    });
    req.on("aborted", () => fail(new DomainError("canceled", "the sender of the delegated build went away")));
    req.pipe(bb);
  });
  answer(req, res, 200, "");
}

/** Builds and pushes one OpenRun request through the node's mode and slots. */
async function runBuild(deps: OpenRunHandlerDeps, spec: OpenRunBuildSpec, file: Readable, outer: AbortSignal): Promise<void> {
  const stop = new AbortController();
  let contextError: unknown;
  const contextFailed = (err: unknown): void => {
    contextError ??= err;
    stop.abort(contextError);
  };
  const gunzip = createGunzip();
  gunzip.on("error", (err) => contextFailed(new UnsafeArchiveError(`file part is not gzip data: ${err.message}`)));
  file.on("error", contextFailed);
  const context = guardTar(file.pipe(gunzip), deps.tarLimits ?? defaultTarLimits);
  context.on("error", contextFailed);
  const buildId = randomUUID();
  const job: BuildJob = {
    buildId,
    // The checked, registry-qualified reference is the image's only name here.
    name: spec.reference,
    reference: spec.reference,
    imageKey: "",
    appId: "",
    containerfile: spec.containerfile,
    args: spec.args,
    target: "",
    platform: "",
    labels: {},
    registry: spec.registry,
    context,
    contextBytes: undefined,
    timeoutSecs: deps.timeoutSecs,
  };
  const onOuter = (): void => stop.abort(outer.reason);
  outer.addEventListener("abort", onOuter, { once: true });
  const timer = setTimeout(() => stop.abort(new DomainError("deadlineExceeded", `build of ${spec.name} timed out after ${deps.timeoutSecs}s (builder.build_timeout_secs)`)), deps.timeoutSecs * 1000);
  try {
    const slot = await deps.slots.acquire(stop.signal, () => undefined);
    try {
      await deps.builder.build(job, (p) => (p.type === "log" ? deps.onLog?.(buildId, p.text) : undefined), stop.signal);
    } finally {
      slot.release();
    }
  } catch (err) {
    if (contextError) throw contextError;
    if (stop.signal.aborted && stop.signal.reason instanceof DomainError) throw stop.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    outer.removeEventListener("abort", onOuter);
    context.destroy();
  }
  if (contextError) throw contextError;
}

function header(req: AnyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function collect(stream: Readable, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new OpenRunRequestError(`meta part is larger than ${limit} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString("utf8");
}
