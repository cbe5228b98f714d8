import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { git } from "./git-fixtures.js";
import { sourceClient, tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** Writes `files` (path → text) under `root`. */
function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), body);
  }
}

/** `app/` with both files, `docker-only/` with a Dockerfile, `empty/` with neither, `named/` with a file of another name. */
const tree = {
  "app/Containerfile": "FROM scratch\n",
  "app/Dockerfile": "FROM busybox\n",
  "docker-only/Dockerfile": "FROM busybox\n",
  "empty/readme.txt": "no containerfile here\n",
  "named/build/Prod.containerfile": "FROM scratch\n",
  "named/Dockerfile": "FROM busybox\n",
};

async function rejectsNotFound(call: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(call, (err: unknown) => {
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, message);
    return true;
  });
}

describe("source service: which containerfile a build uses, from git", () => {
  let url = "";
  let commit = "";
  before(() => {
    const work = tempDir("cf-work-", cleanups);
    git(work, "init", "-q", "-b", "main");
    writeFiles(work, tree);
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "first");
    commit = git(work, "rev-parse", "HEAD");
    url = `file://${work}`;
  });
  const describeFolder = (dir: string, containerfile: string) =>
    sourceClient(tempDir("cf-data-", cleanups)).describe({ source: { repository: url, dir }, commit, containerfile });

  it("prefers Containerfile over Dockerfile when none is named", async () => {
    assert.equal((await describeFolder("app", "")).containerfile, "Containerfile");
    assert.equal((await describeFolder("app", "auto")).containerfile, "Containerfile");
  });

  it("falls back to Dockerfile when there is no Containerfile", async () => {
    assert.equal((await describeFolder("docker-only", "")).containerfile, "Dockerfile");
    assert.equal((await describeFolder("docker-only", "auto")).containerfile, "Dockerfile");
  });

  it("uses the containerfile named in the request, even when a default one exists", async () => {
    assert.equal((await describeFolder("app", "Dockerfile")).containerfile, "Dockerfile");
    assert.equal((await describeFolder("named", "build/Prod.containerfile")).containerfile, "build/Prod.containerfile");
  });

  it("returns NotFound naming the path, repository and commit when the named containerfile does not exist", async () => {
    await rejectsNotFound(describeFolder("app", "Missing.containerfile"),
      `path "app/Missing.containerfile" was not found in repository "${url}" at ${commit}: expected a containerfile in the folder`);
  });

  it("returns NotFound naming both candidates when the folder has neither", async () => {
    await rejectsNotFound(describeFolder("empty", "auto"),
      `path "empty/Containerfile or Dockerfile" was not found in repository "${url}" at ${commit}: expected a containerfile in the folder`);
  });
});

describe("source service: which containerfile a build uses, from a plain folder", () => {
  const folder = (files: Record<string, string>): string => {
    const root = tempDir("cf-folder-", cleanups);
    writeFiles(root, files);
    return root;
  };
  const describeFolder = (root: string, containerfile: string) =>
    sourceClient(tempDir("cf-data-", cleanups)).describe({ source: { repository: root }, containerfile });

  it("falls back to Dockerfile when there is no Containerfile and uses a named one", async () => {
    const both = folder({ "Containerfile": "FROM scratch\n", "Dockerfile": "FROM busybox\n", "ci/Build.containerfile": "FROM scratch\n" });
    assert.equal((await describeFolder(both, "auto")).containerfile, "Containerfile");
    assert.equal((await describeFolder(both, "ci/Build.containerfile")).containerfile, "ci/Build.containerfile");
    assert.equal((await describeFolder(folder({ "Dockerfile": "FROM busybox\n" }), "auto")).containerfile, "Dockerfile");
  });

  it("returns NotFound naming the path and the folder when the named containerfile does not exist", async () => {
    const root = folder({ "Dockerfile": "FROM busybox\n" });
    await rejectsNotFound(describeFolder(root, "Missing.containerfile"),
      `path "Missing.containerfile" was not found in repository "${root}" at the given folder: expected a containerfile in the folder`);
  });
});
