import type { Readable } from "node:stream";
import { RegistryProtocolError } from "./errors.js";
import { header } from "./http-request.js";
import type { RegistrySession } from "./registry-session.js";

/** A blob to upload: digest and size known up front, bytes readable again on retry. */
export interface BlobSource {
  readonly digest: string;
  readonly size: number;
  /** Opens the bytes from `start` to `end` inclusive (all when omitted). */
  open(range?: { readonly start: number; readonly end: number }): Readable;
}

/**
 * Uploads one blob into `repository`: POST to open a session, then a single
 * PUT with the bytes (monolithic) when the blob fits in `chunkSize`, else
 * PATCH chunks with Content-Range followed by a PUT with the digest.
 * `location` continues a session opened elsewhere (a mount answered 202).
 */
export async function uploadBlob(
  session: RegistrySession,
  repository: string,
  blob: BlobSource,
  chunkSize: number,
  signal: AbortSignal | undefined,
  location?: string,
): Promise<void> {
  const scopes = [`repository:${repository}:pull,push`];
  let loc = location ?? (await startUpload(session, repository, scopes, signal));
  if (blob.size > chunkSize) {
    for (let start = 0; start < blob.size; start += chunkSize) {
      const end = Math.min(blob.size, start + chunkSize) - 1;
      const res = await session.send({
        method: "PATCH",
        target: loc,
        scopes,
        signal,
        headers: { "content-type": "application/octet-stream", "content-length": String(end - start + 1), "content-range": `${start}-${end}` },
        body: () => blob.open({ start, end }),
      });
      if (res.status !== 202) throw unexpected(session, res.status, `PATCH chunk ${start}-${end} of ${blob.digest}`, "expected 202");
      loc = locationOf(session, res, "PATCH");
    }
  }
  const url = new URL(loc, "http://placeholder");
  url.searchParams.set("digest", blob.digest);
  const target = /^https?:\/\//.test(loc) ? url.toString() : `${url.pathname}${url.search}`;
  const monolithic = blob.size <= chunkSize;
  const res = await session.send({
    method: "PUT",
    target,
    scopes,
    signal,
    headers: { "content-type": "application/octet-stream", "content-length": String(monolithic ? blob.size : 0) },
    ...(monolithic ? { body: () => blob.open() } : { body: Buffer.alloc(0) }),
  });
  if (res.status !== 201) throw unexpected(session, res.status, `PUT blob ${blob.digest}`, "expected 201");
  const stored = header(res, "docker-content-digest");
  if (stored !== undefined && stored !== blob.digest) {
    throw new RegistryProtocolError(session.host, `blob ${blob.digest} was stored as ${stored}: the upload was corrupted`, res.status, "dataLoss");
  }
}

/** POST /v2/<repo>/blobs/uploads/ → the session's Location. */
export async function startUpload(session: RegistrySession, repository: string, scopes: readonly string[], signal: AbortSignal | undefined): Promise<string> {
  const res = await session.send({ method: "POST", target: `/v2/${repository}/blobs/uploads/`, scopes, signal, headers: { "content-length": "0" } });
  if (res.status !== 202) throw unexpected(session, res.status, `POST /v2/${repository}/blobs/uploads/`, "expected 202");
  return locationOf(session, res, "POST");
}

/** The Location of an upload answer, required by the protocol. */
export function locationOf(session: RegistrySession, res: Parameters<typeof header>[0], what: string): string {
  const loc = header(res, "location");
  if (loc === undefined || loc === "") throw new RegistryProtocolError(session.host, `${what} upload answer has no Location header`, res.status);
  return loc;
}

function unexpected(session: RegistrySession, status: number, what: string, expected: string): RegistryProtocolError {
  return new RegistryProtocolError(session.host, `${what} answered ${status}: ${expected}`, status, status === 404 ? "notFound" : "internal");
}
