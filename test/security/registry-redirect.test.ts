import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { after, before, test } from "node:test";
import { createRegistryClient, type RegistryClient } from "../../libs/registry/registry-client.js";
import { Secret } from "../../libs/secret/secret.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { makeTestCerts, type TestCerts } from "../helpers/test-certs.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { bufferBlob, ociManifest, optionsFor } from "../registry/fixtures.js";

/** What a server of the test saw of one request. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  /** Whether the caller presented a client certificate (TLS servers only). */
  readonly clientCert: boolean;
}

const digestOf = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const storedManifest = Buffer.from('{"schemaVersion":2}');

let dir: TempDir;
let certs: TestCerts;
let registry: TestRegistry;
/** A host of its own (TLS, another origin): where redirects and upload Locations point; it never needs a credential. */
let storage: https.Server;
let storageUrl: string;
const storageSeen: Seen[] = [];
/** A plain HTTP front of the registry that redirects some paths. */
let front: http.Server;
let frontHost: string;
const frontSeen: Seen[] = [];
/** A registry front with a token service that redirects the token request to `storage`. */
let tokenFront: http.Server;
let tokenFrontHost: string;
const tokenFrontSeen: Seen[] = [];
const clients: RegistryClient[] = [];

const seen = (req: http.IncomingMessage): Seen => ({
  method: req.method ?? "",
  url: req.url ?? "",
  authorization: req.headers.authorization,
  clientCert: "getPeerCertificate" in req.socket && Object.keys((req.socket as TLSSocket).getPeerCertificate()).length > 0,
});

const listen = async (server: http.Server | https.Server, host?: string): Promise<number> => {
  await new Promise<void>((resolve) => (host === undefined ? server.listen(0, resolve) : server.listen(0, host, resolve)));
  return (server.address() as AddressInfo).port;
};

before(async () => {
  dir = await tempDir("buildplane-redirect-");
  certs = await makeTestCerts(dir.path);
  registry = await startRegistry({ htpasswd: true });

  storage = https.createServer(
    { cert: await readFile(certs.serverCertPath), key: await readFile(certs.serverKeyPath), ca: certs.caPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      storageSeen.push(seen(req));
      req.resume();
      const url = new URL(req.url ?? "/", "https://storage");
      if (url.pathname === "/manifest") return void res.writeHead(200, { "docker-content-digest": digestOf(storedManifest), "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": String(storedManifest.length) }).end();
      if (url.pathname === "/upload" && req.method === "PUT") return void res.writeHead(201, { "docker-content-digest": url.searchParams.get("digest") ?? "" }).end();
      if (url.pathname === "/token") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "storage-token", expires_in: 300 }));
      if (url.pathname === "/downgrade") return void res.writeHead(307, { location: `http://${frontHost}/v2/plain/app/manifests/1` }).end();
      res.writeHead(404).end();
    },
  );
  storageUrl = `https://localhost:${await listen(storage)}`;

  front = http.createServer((req, res) => {
    frontSeen.push(seen(req));
    const path = req.url ?? "/";
    if (/^\/v2\/moved\/app\/manifests\//.test(path)) return void (req.resume(), res.writeHead(307, { location: `${storageUrl}/manifest` }).end());
    if (/^\/v2\/down\/app\/manifests\//.test(path)) return void (req.resume(), res.writeHead(307, { location: `${storageUrl}/downgrade` }).end());
    if (/^\/v2\/same\/app\/manifests\/[^?]+$/.test(path)) return void (req.resume(), res.writeHead(307, { location: `${path}?hop=1` }).end());
    if (req.method === "POST" && path === "/v2/offsite/app/blobs/uploads/") {
      return void (req.resume(), res.writeHead(202, { location: `${storageUrl}/upload?session=1`, "content-length": "0" }).end());
    }
    const upstream = http.request({ host: "127.0.0.1", port: registry.port, method: req.method, path, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  frontHost = `127.0.0.1:${await listen(front, "127.0.0.1")}`;

  tokenFront = http.createServer((req, res) => {
    tokenFrontSeen.push(seen(req));
    req.resume();
    const path = req.url ?? "/";
    if (path.startsWith("/token")) return void res.writeHead(307, { location: `${storageUrl}/token${path.slice("/token".length)}` }).end();
    if (req.headers.authorization === "Bearer storage-token") {
      return void res.writeHead(200, { "docker-content-digest": digestOf(storedManifest), "content-type": "application/vnd.oci.image.manifest.v1+json" }).end();
    }
    res.writeHead(401, { "www-authenticate": `Bearer realm="http://${tokenFrontHost}/token",service="front"` }).end();
  });
  tokenFrontHost = `127.0.0.1:${await listen(tokenFront, "127.0.0.1")}`;
});

after(async () => {
  for (const c of clients) c.close();
  await Promise.all([storage, front, tokenFront].map((s) => new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)))));
  await registry?.stop();
  await dir?.remove();
});

/** A client for `host` with the registry's Basic credentials and a client certificate, over plain HTTP. */
function clientFor(host: string): RegistryClient {
  const client = createRegistryClient(
    optionsFor(registry, { url: host, insecure: true, caPem: certs.caPem, clientCertPem: certs.clientCertPem, clientKeyPem: new Secret(certs.clientKeyPem) }),
    { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
  );
  clients.push(client);
  return client;
}

const basicOfRegistry = (): string => `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString("base64")}`;

test("an upload Location on another host gets the blob without Authorization or the client certificate", async () => {
  const client = clientFor(frontHost);
  const blob = bufferBlob(Buffer.from("layer bytes"));
  await client.uploadBlob("offsite/app", blob);
  const uploads = storageSeen.filter((s) => s.url.startsWith("/upload"));
  assert.deepEqual(uploads.map((s) => [s.method, s.url, s.authorization, s.clientCert]), [["PUT", `/upload?session=1&digest=${encodeURIComponent(blob.digest)}`, undefined, false]]);
  assert.equal(frontSeen.find((s) => s.url === "/v2/offsite/app/blobs/uploads/")?.authorization, basicOfRegistry());
});

test("a manifest redirect to another host is followed without Authorization or the client certificate", async () => {
  const client = clientFor(frontHost);
  const found = await client.headManifest("moved/app", "1");
  assert.equal(found?.digest, digestOf(storedManifest));
  const hops = storageSeen.filter((s) => s.url === "/manifest");
  assert.deepEqual(hops.map((s) => [s.method, s.authorization, s.clientCert]), [["HEAD", undefined, false]]);
  assert.equal(frontSeen.find((s) => s.url === "/v2/moved/app/manifests/1")?.authorization, basicOfRegistry());
});

test("a redirect on the registry's own host keeps Authorization, so the real registry stores and answers (307 resends the body)", async () => {
  const client = clientFor(frontHost);
  const config = bufferBlob(Buffer.from("{}"));
  await client.uploadBlob("same/app", config);
  const pushed = await client.putManifest("same/app", "1", ociManifest(config, []));
  const found = await client.headManifest("same/app", "1");
  assert.equal(found?.digest, pushed);
  // The PUT followed its 307 with the same body, then the HEAD.
  const hops = frontSeen.filter((s) => s.url === "/v2/same/app/manifests/1?hop=1");
  assert.deepEqual(hops.map((s) => [s.method, s.authorization]), [["PUT", basicOfRegistry()], ["HEAD", basicOfRegistry()]]);
});

test("a token request redirected to another host goes there without the registry password", async () => {
  const client = clientFor(tokenFrontHost);
  const found = await client.headManifest("t/app", "1");
  assert.equal(found?.digest, digestOf(storedManifest));
  assert.equal(tokenFrontSeen.find((s) => s.url.startsWith("/token"))?.authorization, basicOfRegistry());
  const tokenHops = storageSeen.filter((s) => s.url.startsWith("/token"));
  assert.equal(tokenHops.length, 1);
  assert.equal(tokenHops[0]?.authorization, undefined);
  assert.equal(tokenHops[0]?.clientCert, false);
});

test("a redirect from HTTPS down to plain HTTP is refused with failed precondition naming both ends", async () => {
  const client = clientFor(frontHost);
  await assert.rejects(client.headManifest("down/app", "1"), (err: Error & { code?: string }) => {
    assert.equal(err.code, "failedPrecondition");
    assert.equal(
      err.message,
      `registry "${frontHost}": HEAD /v2/down/app/manifests/1: redirect from ${storageUrl}/downgrade to http://${frontHost}/v2/plain/app/manifests/1 is not followed: it leaves HTTPS for plain HTTP`,
    );
    return true;
  });
  assert.equal(frontSeen.some((s) => s.url === "/v2/plain/app/manifests/1"), false);
});
