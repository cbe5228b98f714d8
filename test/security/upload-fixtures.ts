import { randomBytes } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import { cliEnv } from "../e2e/cli-process.js";
import { multiStageContainerfile } from "../e2e/app-fixture.js";

/**
 * A plain folder (no git) holding the multi-stage app of the e2e tests:
 * `notes.log` is dropped by .dockerignore, `nonce.txt` makes its layers
 * unique to the test; `files` adds or replaces files.
 */
export async function makeAppFolder(files: Readonly<Record<string, string | Buffer>> = {}): Promise<TempDir & { readonly nonce: string }> {
  const dir = await tempDir("buildplane-upload-app-");
  const nonce = randomBytes(6).toString("hex");
  const all: Record<string, string | Buffer> = {
    Containerfile: multiStageContainerfile,
    ".dockerignore": "*.log\n",
    "main.sh": 'cat /app/out.txt\necho "files: $(cat /app/files.txt)"\n',
    "name.txt": "widget\n",
    "notes.log": "ignored by .dockerignore\n",
    "nonce.txt": `${nonce}\n`,
    ...files,
  };
  for (const [path, body] of Object.entries(all)) {
    await mkdir(dirname(join(dir.path, path)), { recursive: true });
    await writeFile(join(dir.path, path), body);
  }
  return Object.assign(dir, { nonce });
}

/** A `buildplane serve` with its own data dir and TMPDIR, and how to stop it and remove both. */
export interface UploadServer {
  readonly serve: ServeProcess;
  readonly data: TempDir;
  /** The server's TMPDIR: spools live here while an upload runs. */
  readonly tmp: TempDir;
  stop(): Promise<void>;
}

/** Starts `buildplane serve` on the local Docker engine with `extra` in its environment. */
export async function startUploadServer(extra: NodeJS.ProcessEnv = {}): Promise<UploadServer> {
  const data = await tempDir("buildplane-e2e-data-");
  const tmp = await tempDir("buildplane-e2e-tmp-");
  const serve = await startServe([], cliEnv(data.path, { TMPDIR: tmp.path, ...extra }));
  return {
    serve,
    data,
    tmp,
    async stop() {
      serve.child.kill("SIGTERM");
      await Promise.race([serve.exited, new Promise((r) => setTimeout(r, 10_000))]);
      serve.kill();
      await data.remove();
      await tmp.remove();
    },
  };
}

/**
 * Upload spools a server has in its TMPDIR: the `upload@…` folders under
 * buildplane's private temp root, which is removed once empty.
 */
export async function spoolsLeft(tmp: string): Promise<string[]> {
  const roots = (await readdir(tmp)).filter((n) => n.startsWith("buildplane-"));
  const found: string[] = [];
  for (const r of roots) found.push(...(await readdir(join(tmp, r)).catch(() => [])).map((n) => `${r}/${n}`));
  return found;
}

/** A resolver client of its own HTTP/2 connection; `drop()` cuts the connection as a dying process would. */
export function resolverClient(url: string): { readonly client: Client<typeof ResolverService>; drop(): void } {
  const sessionManager = new Http2SessionManager(url);
  return { client: createClient(ResolverService, createGrpcTransport({ baseUrl: url, sessionManager })), drop: () => sessionManager.abort() };
}
