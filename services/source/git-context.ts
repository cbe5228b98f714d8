import { createBlobReader } from "../../libs/git/blob-reader.js";
import type { TreeEntry } from "../../libs/git/tree-entries.js";
import type { TarEntry } from "../../libs/tar/deterministic-tar.js";
import { fileMode, selectContextItems } from "./context-plan.js";

type Item = TreeEntry & { readonly kind: "file" | "directory" | "symlink" };

function kindOf(e: TreeEntry): Item["kind"] {
  if (e.type !== "blob") return "directory";
  return e.mode === "120000" ? "symlink" : "file";
}

/**
 * The tar entries of a tree listed from a mirror, filtered and sorted, with
 * blob bodies streamed from one `git cat-file --batch` (never a working tree).
 * Submodules become empty folders, as `git archive` does.
 */
export async function* gitContextEntries(
  mirrorDir: string,
  repository: string,
  tree: readonly TreeEntry[],
  rules: readonly string[],
  keep: readonly string[],
  signal?: AbortSignal,
): AsyncGenerator<TarEntry> {
  const items = selectContextItems(tree.map((e) => ({ ...e, kind: kindOf(e) })), rules, keep);
  const blobs = items.filter((i) => i.kind !== "directory");
  const reader = createBlobReader(mirrorDir, blobs.map((b) => b.oid), repository, signal);
  try {
    for (const item of items) {
      if (item.kind === "directory") {
        yield { path: item.path, type: "directory", mode: 0o755, size: 0 };
        continue;
      }
      const blob = await reader.next(item.oid);
      if (item.kind === "symlink") {
        const parts: Buffer[] = [];
        for await (const p of blob.body) parts.push(p);
        yield { path: item.path, type: "symlink", mode: 0o777, size: 0, linkname: Buffer.concat(parts).toString("utf8") };
        continue;
      }
      yield { path: item.path, type: "file", mode: fileMode(item.mode === "100755"), size: blob.size, body: blob.body };
    }
  } finally {
    await reader.close();
  }
}
