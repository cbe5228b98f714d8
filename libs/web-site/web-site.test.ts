import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { loadSiteAssets, type SiteAssets } from "./site-assets.js";
import { contentSecurityPolicy, createWebSite, maxPageUrlLength } from "./web-site.js";

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A raw request: the path is sent exactly as given, without the URL normalisation a client library would do. */
function request(port: number, method: string, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function serve(site: SiteAssets | undefined): Promise<{ port: number; close(): Promise<void> }> {
  const next = (_req: unknown, res: http.ServerResponse): void => {
    res.writeHead(418, { "content-type": "text/plain" });
    res.end("rpc adapter\n");
  };
  const handler = createWebSite(site)(next as never);
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

describe("the web page's static files", { timeout: 60_000 }, () => {
  let root: string;
  let site: { port: number; close(): Promise<void> };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "buildplane-web-site-"));
    await mkdir(join(root, "assets"));
    await writeFile(join(root, "index.html"), "<!doctype html><title>page</title>");
    await writeFile(join(root, "assets/main-ABC123.js"), "console.log(1)");
    await writeFile(join(root, "assets/big-DEF456.css"), "body { color: red; }\n".repeat(200));
    await writeFile(join(root, "assets/main-ABC123.js.map"), "{}");
    await writeFile(join(root, "secret.txt"), "not part of the page");
    await symlink("/etc/passwd", join(root, "assets/passwd-LINK.js"));
    const assets = loadSiteAssets(root);
    assert.ok(assets);
    site = await serve(assets);
  });
  after(async () => {
    await site?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("answers every page route with index.html under a strict CSP, revalidated on each load", async () => {
    for (const path of ["/", "/builds/b_01abc", "/apps", "/pool", "/?app=web&status=failed"]) {
      const a = await request(site.port, "GET", path);
      assert.equal(a.status, 200, path);
      assert.equal(a.body, "<!doctype html><title>page</title>");
      assert.equal(a.headers["content-type"], "text/html; charset=utf-8");
      assert.equal(a.headers["content-security-policy"], contentSecurityPolicy);
      assert.match(contentSecurityPolicy, /default-src 'none'/);
      assert.doesNotMatch(contentSecurityPolicy, /unsafe-inline|unsafe-eval|\*/);
      assert.equal(a.headers["x-content-type-options"], "nosniff");
      assert.equal(a.headers["cache-control"], "no-cache");
    }
  });

  it("answers 304 to a revalidation with the current etag, and HEAD without a body", async () => {
    const first = await request(site.port, "GET", "/pool");
    const again = await request(site.port, "GET", "/pool", { "if-none-match": String(first.headers.etag) });
    assert.equal(again.status, 304);
    assert.equal(again.body, "");
    const head = await request(site.port, "HEAD", "/");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(first.body.length));
    assert.equal(head.body, "");
  });

  it("serves content-hashed assets as immutable with their type", async () => {
    const a = await request(site.port, "GET", "/assets/main-ABC123.js");
    assert.equal(a.status, 200);
    assert.equal(a.body, "console.log(1)");
    assert.equal(a.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(a.headers["cache-control"], "public, max-age=31536000, immutable");
  });

  it("sends gzip to a client that accepts it, with its own etag, and plain bytes to one that does not", async () => {
    const css = "body { color: red; }\n".repeat(200);
    const gz = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: site.port, path: "/assets/big-DEF456.css", headers: { "accept-encoding": "br, gzip;q=0.8" } }, (res) => {
          const parts: Buffer[] = [];
          res.on("data", (c: Buffer) => parts.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        })
        .on("error", reject);
    });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.equal(gz.headers.vary, "accept-encoding");
    assert.ok(gz.body.length < css.length);
    assert.equal(gunzipSync(gz.body).toString(), css);
    const plain = await request(site.port, "GET", "/assets/big-DEF456.css", { "accept-encoding": "gzip;q=0, identity" });
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body, css);
    assert.notEqual(plain.headers.etag, gz.headers.etag);
    const again = await request(site.port, "GET", "/assets/big-DEF456.css", { "accept-encoding": "gzip", "if-none-match": String(gz.headers.etag) });
    assert.equal(again.status, 304);
  });

  it("never serves a file outside the bundle: traversal, encoded slashes, source maps and links are refused", async () => {
    const refused: Array<[string, number]> = [
      ["/assets/..%2fsecret.txt", 404],
      ["/assets/..%2F..%2Fetc%2Fpasswd", 404],
      ["/assets/main-ABC123.js.map", 404],
      ["/assets/passwd-LINK.js", 404],
      ["/assets/", 404],
      ["/assets/secret.txt", 404],
    ];
    for (const [path, status] of refused) {
      const a = await request(site.port, "GET", path);
      assert.equal(a.status, status, path);
      assert.doesNotMatch(a.body, /not part of the page|root:/, path);
      assert.match(a.body, /^no asset ".*": expected a file of the page's bundle\n$/, path);
    }
    // More than one segment is no route of the page: it goes on to the RPC adapter, which serves no files.
    for (const path of ["/assets/../secret.txt", "/builds/../../secret.txt", "/builds/a/b"]) {
      const a = await request(site.port, "GET", path);
      assert.equal(a.status, 418, path);
    }
  });

  it("leaves other methods and paths to the RPC adapter", async () => {
    assert.equal((await request(site.port, "POST", "/")).status, 418);
    assert.equal((await request(site.port, "POST", "/buildplane.v1.MetadataService/ListBuilds")).status, 418);
    assert.equal((await request(site.port, "GET", "/secret.txt")).status, 418);
  });

  it("refuses a request target over the limit with 414", async () => {
    const a = await request(site.port, "GET", `/?app=${"a".repeat(maxPageUrlLength)}`);
    assert.equal(a.status, 414);
    assert.equal(a.body, `request target is over ${maxPageUrlLength} characters\n`);
  });

  it("says how to build the page when the package holds none", async () => {
    const bare = await serve(undefined);
    try {
      const a = await request(bare.port, "GET", "/");
      assert.equal(a.status, 404);
      assert.equal(a.body, "the web page is not built into this package: run npm run build\n");
    } finally {
      await bare.close();
    }
    assert.equal(loadSiteAssets(join(root, "assets")), undefined);
  });

  it("answers over HTTP/2 as over HTTP/1.1 (the TLS port speaks both)", async () => {
    const handler = createWebSite(loadSiteAssets(root))((_req, res) => {
      res.writeHead(418);
      res.end();
    });
    const server = http2.createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const get = (path: string): Promise<{ status: number; csp: unknown; body: string }> =>
        new Promise((resolve, reject) => {
          const req = client.request({ ":path": path });
          let body = "";
          let headers: http2.IncomingHttpHeaders = {};
          req.setEncoding("utf8");
          req.on("response", (h) => (headers = h));
          req.on("data", (c: string) => (body += c));
          req.on("end", () => resolve({ status: Number(headers[":status"]), csp: headers["content-security-policy"], body }));
          req.on("error", reject);
          req.end();
        });
      const page = await get("/builds/b_1");
      assert.equal(page.status, 200);
      assert.equal(page.csp, contentSecurityPolicy);
      assert.equal(page.body, "<!doctype html><title>page</title>");
      assert.equal((await get("/assets/..%2fsecret.txt")).status, 404);
    } finally {
      client.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
