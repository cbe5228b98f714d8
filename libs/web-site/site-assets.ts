import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** One file of the page, held in memory with the headers it is served with. */
export interface SiteAsset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  /** Content-hashed names never change: cached for a year; the page itself is revalidated. */
  readonly immutable: boolean;
  /** The body gzipped once at start, with its own etag, when that is smaller. */
  readonly gzip?: { readonly body: Buffer; readonly etag: string } | undefined;
}

/** The page's files: `index.html` and the bundled `assets/<name>-<hash>.<ext>`. */
export interface SiteAssets {
  readonly index: SiteAsset;
  /** By file name under `assets/` (no folders). */
  readonly assets: ReadonlyMap<string, SiteAsset>;
}

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".woff2": "font/woff2",
};

/** Largest page bundle read at start: far above the real one (a few hundred KiB). */
const maxSiteBytes = 16 * 1024 * 1024;

/**
 * Reads the bundled page (`npm run build` writes it to `dist/web/`) into
 * memory once, so a request never touches the file system: a URL can only
 * name a file in this map, and nothing else on the server is reachable
 * through it. Undefined when the page was not built.
 */
export function loadSiteAssets(root: string = defaultSiteRoot()): SiteAssets | undefined {
  const indexPath = join(root, "index.html");
  if (!statSync(indexPath, { throwIfNoEntry: false })?.isFile()) return undefined;
  let total = 0;
  const read = (path: string, immutable: boolean): SiteAsset => {
    const body = readFileSync(path);
    total += body.length;
    if (total > maxSiteBytes) throw new Error(`web page bundle ${root} is over ${maxSiteBytes} bytes`);
    const ext = path.slice(path.lastIndexOf("."));
    const tag = createHash("sha256").update(body).digest("base64url").slice(0, 27);
    const gzipped = gzipSync(body, { level: 9 });
    return {
      body,
      contentType: contentTypes[ext] ?? "application/octet-stream",
      etag: `"${tag}"`,
      immutable,
      gzip: gzipped.length < body.length ? { body: gzipped, etag: `"${tag}-gzip"` } : undefined,
    };
  };
  const assets = new Map<string, SiteAsset>();
  const assetDir = join(root, "assets");
  if (statSync(assetDir, { throwIfNoEntry: false })?.isDirectory()) {
    for (const entry of readdirSync(assetDir, { withFileTypes: true })) {
      if (!entry.isFile() || !assetName.test(entry.name) || entry.name.endsWith(".map")) continue;
      assets.set(entry.name, read(join(assetDir, entry.name), true));
    }
  }
  return { index: read(indexPath, false), assets };
}

/** The names an asset may have: what esbuild writes, nothing that could climb out of `assets/`. */
export const assetName = /^[A-Za-z0-9_-]{1,64}\.(js|css|svg|woff2)$/;

/**
 * `dist/web` of this package: beside the compiled `dist/libs/web-site/`, or
 * under `dist/` when this module runs from its TypeScript source.
 */
export function defaultSiteRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const compiled = join(here, "../../web");
  if (statSync(join(compiled, "index.html"), { throwIfNoEntry: false })?.isFile()) return compiled;
  return join(here, "../../dist/web");
}
