import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { DualHandler } from "../rpc/listeners.js";
import { isPageRoute } from "./page-routes.js";
import { assetName, type SiteAsset, type SiteAssets } from "./site-assets.js";

/**
 * What the page may load: its own scripts and styles, API calls to this
 * origin, nothing inline, no frames, no plugins.
 */
export const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Longest request target the page answers; the page's own URLs are far shorter. */
export const maxPageUrlLength = 2048;

const securityHeaders = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Serves the web page on the RPC port in front of the RPC adapter: `GET`
 * and `HEAD` of a page route answer `index.html`, of `/assets/<name>` the
 * bundled file, from memory (`loadSiteAssets`). Every other request goes on
 * to `next` untouched, so the API keeps its paths. Without a built page, the
 * page routes answer 404 saying how to build it.
 */
export function createWebSite(site: SiteAssets | undefined): (next: DualHandler) => DualHandler {
  return (next) => (req, res) => {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    if (method !== "GET" && method !== "HEAD") return next(req, res);
    const path = url.split("?")[0] ?? "/";
    const page = isPageRoute(path);
    const assetMatch = /^\/assets\/([^/]*)$/.exec(path);
    if (!page && !assetMatch) return next(req, res);
    if (url.length > maxPageUrlLength) return answerText(res, 414, `request target is over ${maxPageUrlLength} characters`);
    if (!site) return answerText(res, 404, "the web page is not built into this package: run npm run build");
    if (page) return answerAsset(req, res, site.index);
    const name = assetMatch?.[1] ?? "";
    const asset = assetName.test(name) ? site.assets.get(name) : undefined;
    if (!asset) return answerText(res, 404, `no asset ${JSON.stringify(name.slice(0, 80))}: expected a file of the page's bundle`);
    answerAsset(req, res, asset);
  };
}

function answerAsset(req: Request, res: Response, asset: SiteAsset): void {
  const gzip = asset.gzip && acceptsGzip(req.headers["accept-encoding"]) ? asset.gzip : undefined;
  const variant = gzip ?? asset;
  const headers = {
    ...securityHeaders,
    "content-type": asset.contentType,
    "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    etag: variant.etag,
    vary: "accept-encoding",
    ...(gzip ? { "content-encoding": "gzip" } : {}),
  };
  if (req.headers["if-none-match"] === variant.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, "content-length": String(variant.body.length) });
  if (req.method === "HEAD") res.end();
  else res.end(variant.body);
}

/** True when `Accept-Encoding` lists gzip without `q=0`. */
function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  return value.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    return (coding === "gzip" || coding === "*") && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });
}

function answerText(res: Response, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, {
    ...securityHeaders,
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(body);
}
