import { createHash } from "node:crypto";
import { startUpload, uploadBlob, type BlobSource } from "./blob-upload.js";
import { createStaticCredentials, type CredentialSource } from "./credentials.js";
import { createEcrCredentials, ecrRegion, type EcrTokenClient } from "./ecr-credentials.js";
import { createSdkEcrTokenClient } from "./ecr-sdk-client.js";
import { RegistryProtocolError, type RegistryError } from "./errors.js";
import { header } from "./http-request.js";
import { manifestAccept } from "./media-types.js";
import type { RegistryClientOptions } from "./registry-options.js";
import type { RegistryExchangeObserver } from "./registry-op.js";
import { createRegistrySession, statusErrorFor } from "./registry-session.js";
import { defaultRetryPolicy, withRetry, type RetryPolicy } from "./retry.js";

/** What a manifest HEAD tells: the digest the registry holds under a tag. */
export interface ManifestInfo {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

/**
 * The OCI distribution v2 operations this project needs: existence checks,
 * blob uploads (monolithic, chunked, cross-repository mount) and manifest
 * PUT. Each operation is retried as a whole on retryable errors.
 */
export interface RegistryClient {
  readonly host: string;
  ping(signal?: AbortSignal): Promise<void>;
  /** undefined when the registry answers 404. */
  headManifest(repository: string, reference: string, signal?: AbortSignal): Promise<ManifestInfo | undefined>;
  getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<(ManifestInfo & { readonly body: Buffer }) | undefined>;
  /** Stores a manifest; returns its digest. */
  putManifest(repository: string, reference: string, manifest: { readonly mediaType: string; readonly body: Buffer }, signal?: AbortSignal): Promise<string>;
  hasBlob(repository: string, digest: string, signal?: AbortSignal): Promise<boolean>;
  /** Mounts a blob from another repository of the same registry; false when the registry did not (then upload it). */
  mountBlob(repository: string, digest: string, from: string, signal?: AbortSignal): Promise<boolean>;
  uploadBlob(repository: string, blob: BlobSource, signal?: AbortSignal): Promise<void>;
  /**
   * Proves a push to `repository` would be accepted (TLS, credentials, push
   * rights) without storing anything: opens a blob upload and cancels it.
   */
  checkPush(repository: string, signal?: AbortSignal): Promise<void>;
  /** A small blob (an image config) by digest, checked against it; undefined on 404. */
  getBlob(repository: string, digest: string, signal?: AbortSignal): Promise<Buffer | undefined>;
  /** Deletes a manifest by digest; false when the registry does not hold it (404). */
  deleteManifest(repository: string, digest: string, signal?: AbortSignal): Promise<boolean>;
  close(): void;
}

export interface RegistryClientDeps {
  readonly retry?: RetryPolicy;
  /** Blobs larger than this go up in PATCH chunks of this size. */
  readonly chunkSize?: number;
  readonly timeoutMs?: number;
  /** For `type = "ecr"`: the token client (default: the AWS SDK for the inferred region). */
  readonly ecrClient?: (region: string) => EcrTokenClient;
  readonly onRetry?: (err: RegistryError, attempt: number, delayMs: number) => void;
  /** Every HTTP exchange, retries included (`buildplane_registry_requests_total`). */
  readonly onExchange?: RegistryExchangeObserver;
}

/** Creates a client for `options.url`'s host. Call `close()` to free its sockets. */
export function createRegistryClient(options: RegistryClientOptions, deps: RegistryClientDeps = {}): RegistryClient {
  const host = options.url.replace(/^\/+/, "").split("/")[0] ?? "";
  const credentials = credentialSource(options, host, deps);
  const session = createRegistrySession(options, credentials, deps.timeoutMs ?? 120_000, deps.onExchange);
  const policy = deps.retry ?? defaultRetryPolicy;
  const chunkSize = deps.chunkSize ?? 64 * 1024 * 1024;
  const retry = <T>(op: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> => withRetry(op, policy, signal, deps.onRetry);
  const pull = (repo: string): string[] => [`repository:${repo}:pull`];

  async function manifest(method: "HEAD" | "GET", repository: string, reference: string, signal: AbortSignal | undefined) {
    const what = `${method} /v2/${repository}/manifests/${reference}`;
    const res = await session.send({ method, target: `/v2/${repository}/manifests/${reference}`, scopes: pull(repository), signal, headers: { accept: manifestAccept } });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw statusErrorFor(host, res.status, what, "expected 200 or 404");
    const digest = header(res, "docker-content-digest") ?? (method === "GET" ? `sha256:${createHash("sha256").update(res.body).digest("hex")}` : "");
    if (digest === "") throw new RegistryProtocolError(host, `${what} answered without a Docker-Content-Digest header`, res.status);
    const size = method === "GET" ? res.body.length : Number(header(res, "content-length") ?? "0");
    return { digest, mediaType: (header(res, "content-type") ?? "").split(";")[0] ?? "", size, body: res.body };
  }

  return {
    host,
    ping: (signal) => retry(() => session.ping(signal), signal),
    headManifest: (repository, reference, signal) =>
      retry(async () => {
        const m = await manifest("HEAD", repository, reference, signal);
        return m === undefined ? undefined : { digest: m.digest, mediaType: m.mediaType, size: m.size };
      }, signal),
    getManifest: (repository, reference, signal) => retry(() => manifest("GET", repository, reference, signal), signal),
    putManifest: (repository, reference, m, signal) =>
      retry(async () => {
        const what = `PUT /v2/${repository}/manifests/${reference}`;
        const res = await session.send({
          method: "PUT",
          target: `/v2/${repository}/manifests/${reference}`,
          scopes: [`repository:${repository}:pull,push`],
          signal,
          headers: { "content-type": m.mediaType },
          body: m.body,
        });
        if (res.status !== 201 && res.status !== 200) throw statusErrorFor(host, res.status, what, "expected 201");
        const ours = `sha256:${createHash("sha256").update(m.body).digest("hex")}`;
        const theirs = header(res, "docker-content-digest");
        if (theirs !== undefined && theirs !== ours) {
          throw new RegistryProtocolError(host, `${what} stored digest ${theirs}, expected ${ours}`, res.status, "dataLoss");
        }
        return ours;
      }, signal),
    hasBlob: (repository, digest, signal) =>
      retry(async () => {
        const what = `HEAD /v2/${repository}/blobs/${digest}`;
        const res = await session.send({ method: "HEAD", target: `/v2/${repository}/blobs/${digest}`, scopes: pull(repository), signal });
        if (res.status === 404) return false;
        if (res.status === 200) return true;
        throw statusErrorFor(host, res.status, what, "expected 200 or 404");
      }, signal),
    mountBlob: (repository, digest, from, signal) =>
      retry(async () => {
        const target = `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
        const scopes = [`repository:${repository}:pull,push`, `repository:${from}:pull`];
        const res = await session.send({ method: "POST", target, scopes, signal, headers: { "content-length": "0" } });
        if (res.status === 201) return true;
        if (res.status === 202) {
          // The registry opened an ordinary upload instead; cancel it so no session lingers.
          const loc = header(res, "location");
          if (loc !== undefined) await session.send({ method: "DELETE", target: loc, scopes, signal }).catch(() => undefined);
          return false;
        }
        throw statusErrorFor(host, res.status, `POST ${target}`, "expected 201 or 202");
      }, signal),
    uploadBlob: (repository, blob, signal) => retry(() => uploadBlob(session, repository, blob, chunkSize, signal), signal),
    checkPush: (repository, signal) =>
      retry(async () => {
        const scopes = [`repository:${repository}:pull,push`];
        const location = await startUpload(session, repository, scopes, signal);
        // The upload is cancelled so no session lingers; a registry that cannot cancel lets it expire.
        await session.send({ method: "DELETE", target: location, scopes, signal }).catch(() => undefined);
      }, signal),
    getBlob: (repository, digest, signal) =>
      retry(async () => {
        const what = `GET /v2/${repository}/blobs/${digest}`;
        const res = await session.send({ method: "GET", target: `/v2/${repository}/blobs/${digest}`, scopes: pull(repository), signal });
        if (res.status === 404) return undefined;
        if (res.status !== 200) throw statusErrorFor(host, res.status, what, "expected 200 or 404");
        const got = `sha256:${createHash("sha256").update(res.body).digest("hex")}`;
        if (got !== digest) throw new RegistryProtocolError(host, `${what} answered content with digest ${got}`, res.status, "dataLoss");
        return res.body;
      }, signal),
    deleteManifest: (repository, digest, signal) =>
      retry(async () => {
        const what = `DELETE /v2/${repository}/manifests/${digest}`;
        const res = await session.send({ method: "DELETE", target: `/v2/${repository}/manifests/${digest}`, scopes: [`repository:${repository}:delete`], signal });
        if (res.status === 202 || res.status === 200) return true;
        if (res.status === 404) return false;
        if (res.status === 405) throw new RegistryProtocolError(host, `${what} answered 405: the registry does not allow deletes`, res.status, "failedPrecondition");
        throw statusErrorFor(host, res.status, what, "expected 202");
      }, signal),
    close: () => session.close(),
  };
}

function credentialSource(options: RegistryClientOptions, host: string, deps: RegistryClientDeps): CredentialSource {
  if (options.type !== "ecr") return createStaticCredentials(options.username, options.password);
  const region = ecrRegion(host, options.awsRegion);
  const client = deps.ecrClient?.(region) ?? createSdkEcrTokenClient({ region });
  return createEcrCredentials(client, host, region);
}
