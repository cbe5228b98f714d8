import assert from "node:assert/strict";
import { chownSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { extract, type Header } from "tar-stream";
import { selectContextItems, type ContextItem } from "../../services/source/context-plan.js";
import { git } from "./git-fixtures.js";
import { sourceClient, tempDir } from "./source-harness.js";

const cleanups: (() => unknown)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/**
 * Written in reverse order of the context order, with names whose byte
 * order differs from git's tree order ("a" sorts before "a-b" as a path,
 * after "a.txt" as a git tree).
 */
const files = ["z.txt", "a/z.txt", "a.txt", "a-b", "Containerfile", "B.txt"];
const sortedPaths = ["B.txt", "Containerfile", "a", "a-b", "a.txt", "a/z.txt", "z.txt"];

async function headersOf(tar: Buffer): Promise<Header[]> {
  const out: Header[] = [];
  const x = extract();
  const done = new Promise<void>((resolve, reject) => {
    x.on("entry", (header, stream, next) => {
      out.push(header);
      stream.on("end", next);
      stream.resume();
    });
    x.on("finish", resolve);
    x.on("error", reject);
  });
  x.end(tar);
  await done;
  return out;
}

async function contextHeaders(repository: string, commit = ""): Promise<Header[]> {
  const chunks: Buffer[] = [];
  for await (const m of sourceClient(tempDir("hdr-data-", cleanups)).streamContext({ source: { repository }, commit })) {
    if (m.chunk.length > 0) chunks.push(Buffer.from(m.chunk));
  }
  return headersOf(Buffer.concat(chunks));
}

/** A folder holding `files`, owned by 4321:4321 with a 2021 mtime, so nothing in the tar can come from disk by accident. */
function writeTree(): string {
  const root = tempDir("hdr-tree-", cleanups);
  for (const f of files) {
    mkdirSync(join(root, f, ".."), { recursive: true });
    writeFileSync(join(root, f), `${f}\n`);
  }
  for (const p of [...files, "a"]) {
    chownSync(join(root, p), 4321, 4321);
    utimesSync(join(root, p), new Date("2021-06-01T00:00:00Z"), new Date("2021-06-01T00:00:00Z"));
  }
  return root;
}

function assertDeterministic(headers: readonly Header[]): void {
  assert.deepEqual(headers.map((h) => h.name.replace(/\/$/, "")), sortedPaths);
  for (const h of headers) {
    assert.equal(h.mtime?.getTime(), 0, h.name);
    assert.deepEqual([h.uid, h.gid, h.uname, h.gname], [0, 0, "", ""], h.name);
  }
}

describe("build context tar headers", () => {
  it("sorts context items by path bytes whatever order they come in", () => {
    const items: ContextItem[] = [...files].map((path) => ({ path, kind: "file" as const }));
    items.push({ path: "a", kind: "directory" });
    assert.deepEqual(selectContextItems(items, [], ["Containerfile"]).map((i) => i.path), sortedPaths);
    assert.deepEqual(selectContextItems([...items].reverse(), [], ["Containerfile"]).map((i) => i.path), sortedPaths);
  });

  it("packs a plain folder in path order with time 0, owner 0:0 and no owner names", async () => {
    const root = writeTree();
    assertDeterministic(await contextHeaders(root));
  });

  it("packs a git folder in path order with time 0, owner 0:0 and no owner names", async () => {
    const root = writeTree();
    git(root, "init", "-q", "-b", "main");
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "tree");
    const commit = git(root, "rev-parse", "HEAD");
    const treeOrder = git(root, "ls-tree", "-r", "-t", "--name-only", commit).split("\n");
    assert.notDeepEqual(treeOrder, sortedPaths, "git lists the tree in another order than the context's");
    assertDeterministic(await contextHeaders(`file://${root}`, commit));
  });
});
