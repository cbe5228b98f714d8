import { randomUUID } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import busboy from "busboy";
import { DomainError } from "../../../libs/errors/domain-error.js";
import type { Secret } from "../../../libs/secret/secret.js";
import type { BuildLifecycle } from "../build-lifecycle.js";
import { UploadTooLargeError } from "../build-errors.js";
import { checkNodePush, DelegatedBuildsDisabledError } from "../node-guard.js";
import type { BuildJob } from "../image-builder.js";
import { checkBearer } from "./bearer-check.js";
import { answer, httpStatusOf, type AnyRequest, type AnyResponse } from "./http-answer.js";
import { filePartName, metaPartName, OpenRunRequestError, parseOpenRunMeta, type OpenRunBuildSpec } from "../wire/openrun-codec.js";
import { createContextSpool } from "../context-spool.js";

export interface OpenRunHandlerDeps {
  /** `[system] builder_auth_token`; unset refuses every request. */
  readonly token: Secret | undefined;
  /** `[security] admin_over_tcp`; off refuses every request with 403. */
  readonly adminOverTcp: boolean;
  /** The node's one build lifecycle (mode, slots, confiner), as the gRPC path uses it. */
  readonly lifecycle: BuildLifecycle;
  /** `[builder] build_timeout_secs`: OpenRun's meta carries no timeout. */
  readonly timeoutSecs: number;
  /** `[builder] max_upload_bytes`: the compressed upload. */
  readonly maxUploadBytes: number;
  /** `[builder] allowed_registries`: the only registry hosts pushed to; empty allows any. */
  readonly allowedRegistries?: readonly string[];
  /** Build output lines, for the node's own log. */
  readonly onLog?: (buildId: string, text: string) => void;
}

const metaLimit = 1024 * 1024;

/**
 * The handler of OpenRun's `POST /_openrun/delegate_build` on a builder
 * node: the token is checked (constant time) before the body is read, the
 * multipart body is streamed (`meta` JSON and `file` tar.gz, by form name in
 * either order, the meta part with or without a filename; a file part that
 * comes first is spooled within the upload limit until the meta arrives), the archive
 * is gunzipped and re-streamed through the archive confiner straight into the build,
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
    // Settles once a meta part was read (or refused); parts come in any order, as OpenRun's node reads them by name.
    let metaSeen = false;
    let metaArrived: () => void = () => undefined;
    const metaRead = new Promise<void>((r) => (metaArrived = r));
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
      try {
        const parsed = parseOpenRunMeta(text);
        checkNodePush(parsed.reference, parsed.registry.url, deps.allowedRegistries ?? []);
        spec = parsed;
        metaArrived();
      } catch (err) {
        fail(err);
      }
    };
    const startMeta = (): boolean => {
      if (metaSeen) fail(new OpenRunRequestError("the request has more than one meta part"));
      metaSeen = true;
      return !failed;
    };
    bb.on("field", (name, value, info) => {
      if (name !== metaPartName || !startMeta()) return;
      if (info.valueTruncated) return fail(new OpenRunRequestError(`meta part is larger than ${metaLimit} bytes`));
      onMeta(value);
    });
    bb.on("file", (name, stream) => {
      if (failed) return void stream.resume();
      // `curl -F meta=@meta.json` sends the meta part with a filename.
      if (name === metaPartName) return startMeta() ? void collect(stream, metaLimit).then(onMeta, fail) : void stream.resume();
      if (name !== filePartName) return void stream.resume();
      if (build) return (stream.resume(), fail(new OpenRunRequestError("the request has more than one file part")));
      stream.on("limit", () => fail(new UploadTooLargeError(deps.maxUploadBytes)));
      build = metaSeen
        ? // The meta part came first (it may still be being read): the context streams straight into the build.
          metaRead.then(() => runBuild(deps, spec as OpenRunBuildSpec, stream, stop.signal))
        : // The file part came first: it is spooled within the upload limit until the meta part arrives.
          spoolUntil(stream, metaRead, deps.maxUploadBytes, stop.signal, (context) => runBuild(deps, spec as OpenRunBuildSpec, context, stop.signal));
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

/**
 * Spools `file` to a private temp file as it arrives (so the parser reaches
 * the parts after it), waits for `ready`, then runs `use` on the spooled
 * context; the temp file is removed however it ends.
 */
async function spoolUntil(file: Readable, ready: Promise<void>, maxBytes: number, signal: AbortSignal, use: (context: Readable) => Promise<void>): Promise<void> {
  const spool = await createContextSpool(file, { maxBytes });
  const onAbort = (): void => void spool.dispose();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const _ of spool.chunks()) void _;
    if (spool.failure) throw spool.failure;
    await ready;
    await use(Readable.from(spool.chunks()));
  } finally {
    signal.removeEventListener("abort", onAbort);
    await spool.dispose();
  }
}

/** Builds and pushes one OpenRun request through the node's lifecycle. */
async function runBuild(deps: OpenRunHandlerDeps, spec: OpenRunBuildSpec, file: Readable, outer: AbortSignal): Promise<void> {
  const gunzip = createGunzip();
  const context = new PassThrough();
  gunzip.on("error", (err) => context.destroy(new OpenRunRequestError(`file part is not gzip data: ${err.message}`)));
  file.on("error", (err) => context.destroy(err));
  context.on("close", () => gunzip.destroy());
  file.pipe(gunzip).pipe(context);
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
  await deps.lifecycle.run(job, (p) => (p.type === "log" ? deps.onLog?.(buildId, p.text) : undefined), outer);
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
