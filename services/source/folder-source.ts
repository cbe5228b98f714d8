import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, readlink, realpath } from "node:fs/promises";
import { join, sep } from "node:path";
import { PathNotFoundError, UnsafePathError } from "../../libs/git/git-errors.js";
import { packTar, type TarEntry } from "../../libs/tar/deterministic-tar.js";
import { parseDockerignore } from "../../libs/tar/dockerignore.js";
import { chooseContainerfile, fileMode, selectContextItems, type ContextItem } from "./context-plan.js";
import type { FolderDescription } from "./git-source.js";

interface FsItem extends ContextItem {
  readonly abs: string;
  readonly executable: boolean;
  readonly size: number;
}

/** The context folder inside `root`, refusing one that a symlink takes outside. */
async function contextRoot(root: string, dir: string): Promise<string> {
  const realRoot = await realpath(root).catch(() => undefined);
  if (realRoot === undefined) throw new PathNotFoundError(root, "", ".", "an existing folder");
  const real = await realpath(join(realRoot, dir)).catch(() => undefined);
  if (real === undefined || !(await lstat(real)).isDirectory()) throw new PathNotFoundError(root, "", dir || ".", "a folder");
  if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new UnsafePathError("dir", dir, "a folder inside the repository");
  return real;
}

async function walk(base: string, rel = "", out: FsItem[] = []): Promise<FsItem[]> {
  for (const name of await readdir(join(base, rel))) {
    const path = rel === "" ? name : `${rel}/${name}`;
    const abs = join(base, path);
    const st = await lstat(abs);
    if (st.isDirectory()) {
      out.push({ path, abs, kind: "directory", executable: true, size: 0 });
      await walk(base, path, out);
    } else if (st.isSymbolicLink()) {
      out.push({ path, abs, kind: "symlink", executable: false, size: 0 });
    } else if (st.isFile()) {
      out.push({ path, abs, kind: "file", executable: (st.mode & 0o111) !== 0, size: st.size });
    }
  }
  return out;
}

async function plan(root: string, dir: string, containerfile: string) {
  const base = await contextRoot(root, dir);
  const all = await walk(base);
  const files = new Set(all.filter((i) => i.kind === "file").map((i) => i.path));
  const cf = await chooseContainerfile(containerfile, async (p) => files.has(p), (tried) => new PathNotFoundError(root, "", tried, "a containerfile in the folder"));
  const rules = files.has(".dockerignore") ? parseDockerignore(await readFile(join(base, ".dockerignore"), "utf8")) : [];
  return { containerfile: cf, rules, items: selectContextItems(all, rules, [cf]) };
}

/**
 * Describes a plain folder (not a git repository): its content key is a
 * sha256 over the context's sorted paths, kinds, modes and content hashes,
 * with .dockerignore applied, so it changes exactly when the context does.
 */
export async function describeFolder(root: string, dir: string, containerfile: string, signal?: AbortSignal): Promise<FolderDescription> {
  const p = await plan(root, dir, containerfile);
  const h = createHash("sha256");
  for (const item of p.items) {
    signal?.throwIfAborted();
    let content = "";
    if (item.kind === "symlink") content = await readlink(item.abs);
    if (item.kind === "file") {
      const fh = createHash("sha256");
      for await (const piece of createReadStream(item.abs, { signal })) fh.update(piece as Buffer);
      content = fh.digest("hex");
    }
    h.update(`${item.path}\0${item.kind}\0${item.executable ? "755" : "644"}\0${content}\n`);
  }
  return { commit: "", treeHash: `sha256:${h.digest("hex")}`, containerfile: p.containerfile, ignoreRules: p.rules };
}

/** The deterministic tar of a plain folder, with the same rules as for git. */
export async function* folderContext(root: string, dir: string, containerfile: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const p = await plan(root, dir, containerfile);
  async function* entries(): AsyncGenerator<TarEntry> {
    for (const item of p.items) {
      if (item.kind === "directory") yield { path: item.path, type: "directory", mode: 0o755, size: 0 };
      else if (item.kind === "symlink") yield { path: item.path, type: "symlink", mode: 0o777, size: 0, linkname: await readlink(item.abs) };
      else yield { path: item.path, type: "file", mode: fileMode(item.executable), size: item.size, body: createReadStream(item.abs, { signal, highWaterMark: 64 * 1024 }) };
    }
  }
  yield* packTar(entries(), signal);
}
