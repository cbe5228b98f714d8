import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";
import { gzipSync } from "node:zlib";
import type Docker from "dockerode";
import { extract } from "tar-stream";

/** How Kaniko reaches one registry: what its flags and mounted files say for that host. */
export interface RegistryAccess {
  readonly host: string;
  /** `--insecure-registry=<host>`: plain HTTP is tried when HTTPS fails. Certificates are still verified. */
  readonly insecure: boolean;
  /** `--registry-certificate=<host>=<path>`: a CA added to the system roots. */
  readonly caPem?: string;
  /** `--registry-client-cert=<host>=<cert>,<key>`: presented when the registry asks for one. */
  readonly clientCert?: { readonly cert: string; readonly key: string };
  /** From `$DOCKER_CONFIG/config.json`, sent when the registry challenges for Basic auth. */
  readonly basic?: { readonly username: string; readonly password: string };
}

interface Reply { readonly status: number; readonly headers: IncomingMessage["headers"]; readonly body: Buffer }
interface Blob { readonly digest: string; readonly data: Buffer }

const manifestType = "application/vnd.docker.distribution.manifest.v2+json";

/**
 * Pushes a local engine image the way Kaniko's go-containerregistry does,
 * not through the engine (whose own trust settings would decide TLS): pings
 * `/v2/` over HTTPS verifying the server against the system roots plus the
 * `--registry-certificate` CA and presenting the `--registry-client-cert`
 * pair; falls back to plain HTTP only for an `--insecure-registry` host;
 * answers a Basic challenge with the config.json credentials; uploads the
 * config and gzipped layers that are missing, then puts a Docker schema 2
 * manifest. Returns the manifest digest. Errors read like Kaniko's.
 */
export async function pushImage(docker: Docker, image: string, repo: string, tag: string, access: RegistryAccess,
  signal: AbortSignal): Promise<string> {
  const send = await connect(access, signal);
  const name = repo.slice(access.host.length + 1);
  const { config, layers } = await exportImage(docker, image, signal);
  for (const blob of [config, ...layers]) {
    const head = await send("HEAD", `/v2/${name}/blobs/${blob.digest}`);
    if (head.status === 200) continue;
    const start = await send("POST", `/v2/${name}/blobs/uploads/`, undefined, 202);
    const location = new URL(String(start.headers.location ?? ""), "http://placeholder");
    location.searchParams.set("digest", blob.digest);
    await send("PUT", `${location.pathname}${location.search}`, { type: "application/octet-stream", data: blob.data }, 201);
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: manifestType,
    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: config.data.length, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: l.data.length, digest: l.digest })),
  }));
  await send("PUT", `/v2/${name}/manifests/${tag}`, { type: manifestType, data: manifest }, 201);
  return sha256(manifest);
}

type Send = (method: string, path: string, body?: { type: string; data: Buffer }, expect?: number) => Promise<Reply>;

/** Pings the registry as ggcr's transport does and returns a request function bound to the scheme and auth found. */
async function connect(access: RegistryAccess, signal: AbortSignal): Promise<Send> {
  const tls = {
    ca: access.caPem === undefined ? undefined : [...rootCertificates, access.caPem],
    cert: access.clientCert?.cert,
    key: access.clientCert?.key,
  };
  let scheme: "https" | "http" = "https";
  let ping: Reply;
  try {
    ping = await call(scheme, access.host, "GET", "/v2/", {}, undefined, tls, signal);
  } catch (e) {
    if (!access.insecure) throw new Error(`Get "https://${access.host}/v2/": ${(e as Error).message}`);
    scheme = "http";
    ping = await call(scheme, access.host, "GET", "/v2/", {}, undefined, tls, signal)
      .catch((e2: unknown) => { throw new Error(`Get "http://${access.host}/v2/": ${(e2 as Error).message}`); });
  }
  const challenge = String(ping.headers["www-authenticate"] ?? "");
  const headers: Record<string, string> = {};
  if (ping.status === 401 && /^basic/i.test(challenge) && access.basic !== undefined) {
    headers["authorization"] = `Basic ${Buffer.from(`${access.basic.username}:${access.basic.password}`).toString("base64")}`;
  }
  return async (method, path, body, expect) => {
    const url = `${scheme}://${access.host}${path}`;
    const reply = await call(scheme, access.host, method, path, headers, body, tls, signal)
      .catch((e: unknown) => { throw new Error(`${method} ${url}: ${(e as Error).message}`); });
    if ((expect !== undefined && reply.status !== expect) || (reply.status >= 400 && method !== "HEAD")) {
      throw new Error(`${method} ${url}: ${registryError(reply)}`);
    }
    return reply;
  };
}

function call(scheme: "https" | "http", host: string, method: string, path: string, headers: Record<string, string>,
  body: { type: string; data: Buffer } | undefined, tls: { ca?: string[]; cert?: string; key?: string }, signal: AbortSignal): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const [hostname = "", port = ""] = host.split(":");
    const opts = {
      hostname, port, method, path, signal, agent: false,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": body.type, "content-length": String(body.data.length) }) },
    };
    const req = scheme === "https" ? httpsRequest({ ...opts, ...tls }) : httpRequest(opts);
    req.once("error", reject);
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.once("error", reject);
      res.once("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.end(body?.data);
  });
}

/** `CODE: message` of the registry's error body, as ggcr's transport.Error prints it. */
function registryError(reply: Reply): string {
  try {
    const errs = (JSON.parse(reply.body.toString()) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    if (errs.length > 0) return errs.map((e) => `${e.code ?? "UNKNOWN"}: ${e.message ?? ""}`).join("; ");
  } catch { /* not JSON */ }
  return `unexpected status code ${reply.status}: ${reply.body.toString().trim()}`;
}

/** The image's config and gzipped layers, from the engine's `docker save` export. */
async function exportImage(docker: Docker, image: string, signal: AbortSignal): Promise<{ config: Blob; layers: Blob[] }> {
  const archive = await docker.getImage(image).get();
  const files = new Map<string, Buffer>();
  const ex = extract();
  ex.on("entry", (head, entry, next) => {
    const chunks: Buffer[] = [];
    entry.on("data", (c: unknown) => chunks.push(c as Buffer));
    entry.once("end", () => { if (head.type === "file") files.set(head.name, Buffer.concat(chunks)); next(); });
  });
  await new Promise<void>((resolve, reject) => {
    signal.addEventListener("abort", () => reject(new Error("terminated")), { once: true });
    ex.once("finish", resolve);
    ex.once("error", reject);
    archive.pipe(ex);
  });
  const [entry] = JSON.parse(files.get("manifest.json")?.toString() ?? "[]") as { Config: string; Layers: string[] }[];
  const file = (n: string): Buffer => files.get(n) ?? Buffer.alloc(0);
  const blob = (data: Buffer): Blob => ({ digest: sha256(data), data });
  return { config: blob(file(entry?.Config ?? "")), layers: (entry?.Layers ?? []).map((l) => blob(gzipSync(file(l)))) };
}

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}
