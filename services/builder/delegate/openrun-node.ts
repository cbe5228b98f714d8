import { randomBytes } from "node:crypto";
import { injectTraceHeaders } from "../../../libs/tracing/trace-context.js";
import * as http from "node:http";
import * as https from "node:https";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { ErrorCode } from "../../../libs/errors/domain-error.js";
import { DomainError } from "../../../libs/errors/domain-error.js";
import type { Secret } from "../../../libs/secret/secret.js";
import { Secret as SecretValue } from "../../../libs/secret/secret.js";
import { encodeOpenRunBody, encodeOpenRunMeta, openRunDelegatePath, openRunHealthPath } from "../wire/openrun-codec.js";
import { abortReason } from "../build-errors.js";
import type { BuilderNode, NodeBuild } from "./builder-node.js";
import { BuilderNodeLostError, BuilderNodeRejectedError } from "./delegate-errors.js";

export interface OpenRunNodeOptions {
  /** `openrun+http://host:port` or `openrun+https://host:port`. */
  readonly url: string;
  readonly token: Secret;
  /** CA trusted for `openrun+https`. */
  readonly caPem?: string;
  /** Client certificate and key presented to a node that requires mTLS (`[builder] node_client_cert_file`/`node_client_key_file`). */
  readonly certPem?: string;
  readonly keyPem?: Secret;
  readonly probeTimeoutMs?: number;
}

/**
 * A secret build arg bound for an OpenRun node. OpenRun's protocol has only
 * plain `ContainerArgs`, and the node records build arg values in the image
 * history, so sending it would publish the secret with the image.
 */
export class OpenRunSecretArgError extends DomainError {
  constructor(readonly node: string, readonly argName: string) {
    super(
      "failedPrecondition",
      `secret build arg ${argName} cannot be delegated to OpenRun node ${node}: OpenRun's protocol has no secret build args and the value would be recorded in the image history`,
    );
  }
}

const codeByStatus: Readonly<Record<number, ErrorCode>> = { 400: "invalidArgument", 401: "unauthenticated", 403: "permissionDenied", 404: "notFound", 405: "unimplemented", 413: "resourceExhausted", 503: "unavailable", 504: "deadlineExceeded" };

/**
 * A node speaking OpenRun's wire format (`POST /_openrun/delegate_build`,
 * multipart `meta` + `file` tar.gz, streamed with chunked encoding), for a
 * main install delegating to an OpenRun builder. Unlike OpenRun's client it
 * can be canceled and stops at the build's deadline (the lifecycle's abort). Since OpenRun's builder
 * ignores `RegistryConfig.Project` when pushing, the project is folded into
 * `URL` so the image lands at the one qualified reference. OpenRun reports
 * no digest; the delegate mode reads it from the registry. Build args go
 * as OpenRun's plain `ContainerArgs`; a secret one is refused before
 * anything is sent.
 */
export function createOpenRunNode(options: OpenRunNodeOptions): BuilderNode {
  const base = new URL(options.url.replace(/^openrun\+/, ""));
  const client = base.protocol === "https:" ? https : http;
  const tls = {
    ...(options.caPem ? { ca: options.caPem } : {}),
    ...(options.certPem && options.keyPem ? { cert: options.certPem, key: options.keyPem.unwrap() } : {}),
  };

  return {
    url: options.url,
    async probe(signal) {
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = client.get(new URL(openRunHealthPath, base), { ...tls, signal: AbortSignal.any([signal, AbortSignal.timeout(options.probeTimeoutMs ?? 2000)]) }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on("error", reject);
        });
        if (status !== 200) return { healthy: false, capacity: 0, running: 0, queued: 0, reason: `health answered ${status}` };
        return { healthy: true, capacity: 1, running: 0, queued: 0, reason: "" };
      } catch (err) {
        return { healthy: false, capacity: 0, running: 0, queued: 0, reason: (err as Error).message };
      }
    },
    async build(build: NodeBuild, onProgress, signal) {
      const job = build.job;
      const containerArgs: Record<string, string> = {};
      for (const a of job.args) {
        if (a.value instanceof SecretValue) throw new OpenRunSecretArgError(options.url, a.name);
        containerArgs[a.name] = a.value;
      }
      const boundary = `buildplane-${randomBytes(12).toString("hex")}`;
      const meta = encodeOpenRunMeta({ name: job.name, containerfile: job.containerfile, args: containerArgs, registry: build.registry });
      const body = (): AsyncIterable<Uint8Array> =>
        encodeOpenRunBody(boundary, meta, `${job.name}-context.tar.gz`, Readable.from(build.context()).pipe(createGzip()) as AsyncIterable<Buffer>);
      let sent = false;
      onProgress({ type: "log", stream: "system", text: `sending the build to OpenRun builder ${options.url}` });
      try {
        const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
          const req = client.request(new URL(openRunDelegatePath, base), {
            ...tls,
            method: "POST",
            signal,
            headers: injectTraceHeaders({ "content-type": `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${options.token.unwrap()}` }),
          });
          req.on("response", resolve);
          req.on("error", reject);
          pipeline(Readable.from(body()), req).then(() => (sent = true), reject);
        });
        const text = await readText(res, 64 * 1024);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return { reference: job.reference, digest: "" };
        throw new BuilderNodeRejectedError(options.url, codeByStatus[status] ?? (status >= 500 ? "internal" : "unknown"), `answered ${status}: ${text.trim()}`);
      } catch (err) {
        if (err instanceof DomainError) throw err;
        // The lifecycle's deadline and the caller's cancellation arrive as the abort's reason.
        if (signal.aborted) throw abortReason(signal, job.buildId);
        throw new BuilderNodeLostError(options.url, sent, (err as Error).message, { cause: err });
      }
    },
    async close() {},
  };
}

async function readText(res: http.IncomingMessage, limit: number): Promise<string> {
  let text = "";
  for await (const chunk of res) if (text.length < limit) text += (chunk as Buffer).toString("utf8");
  return text.slice(0, limit);
}
