import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import type { GitAuthConfig } from "../../libs/config/config-types.js";
import { createSourceService } from "../../services/source/service.js";
import { createSourceCheckout } from "../../services/source/source-checkout.js";
import { git } from "./git-fixtures.js";

/** A temp folder removed by `cleanup`. */
export function tempDir(prefix: string, cleanups: (() => unknown)[]): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A SourceService client over an in-memory transport, with its own data dir. */
export function sourceClient(dataDir: string, extra: { timeoutSecs?: number; gitAuth?: Record<string, GitAuthConfig>; defaultGitAuth?: string; entries?: number } = {}): Client<typeof SourceService> {
  const checkout = createSourceCheckout({
    gitRoot: join(dataDir, "git"),
    cacheEntries: extra.entries ?? 0,
    remoteCheckIntervalSecs: 0,
    operationTimeoutSecs: extra.timeoutSecs ?? 600,
    gitAuth: extra.gitAuth ?? {},
    defaultGitAuth: extra.defaultGitAuth ?? "",
  });
  const transport = createRouterTransport(
    (router) => router.service(SourceService, createSourceService({ checkout })),
    { router: { interceptors: [createErrorInterceptor(silentLogger)] } },
  );
  return createClient(SourceService, transport);
}

/** Writes the fixture files of the "app" folder and the rest of the repository. */
export function writeFixtureTree(work: string): void {
  const f = (p: string, body: string, mode = 0o644) => {
    mkdirSync(join(work, p, ".."), { recursive: true });
    writeFileSync(join(work, p), body);
    chmodSync(join(work, p), mode);
  };
  f("app/Containerfile", "FROM scratch\n");
  f("app/Dockerfile", "FROM busybox\n");
  f("app/run.sh", "#!/bin/sh\necho hi\n", 0o755);
  f("app/.dockerignore", "# rules\n*.log\nsecret-dir\n!secret-dir/keep.txt\nContainerfile\n");
  f("app/a.log", "log\n");
  f("app/sub/b.log", "kept: patterns are anchored\n");
  f("app/secret-dir/x.txt", "excluded\n");
  f("app/secret-dir/keep.txt", "re-included\n");
  symlinkSync("run.sh", join(work, "app/link"));
  f("other/readme.txt", "outside the folder\n");
}

/** A working repository with one commit, tags v1 (light) and v1a (annotated), served as `<base>/app.git`. */
export function makeServedRepo(base: string, work: string): { bare: string; first: string } {
  git(work, "init", "-q", "-b", "main");
  writeFixtureTree(work);
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "first");
  git(work, "tag", "v1");
  git(work, "tag", "-a", "v1a", "-m", "annotated");
  const bare = join(base, "app.git");
  git(base, "clone", "-q", "--bare", work, bare);
  git(bare, "config", "uploadpack.allowAnySHA1InWant", "true");
  return { bare, first: git(work, "rev-parse", "HEAD") };
}
