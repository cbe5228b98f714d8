/** The symlinks an archive declared so far, looked up by path component. */
export interface SymlinkIndex {
  /** Records a symlink entry at `path` (a confined, normalized name). */
  add(path: string): void;
  /**
   * The symlink a path goes through, if any: the first proper ancestor of
   * `path` that was declared a symlink. The path itself being one does not
   * count, since an entry at that name replaces the link.
   */
  through(path: string): string | undefined;
}

interface Node {
  readonly children: Map<string, Node>;
  symlink: boolean;
}

/**
 * Creates an empty index: a trie of path components, so a lookup costs one
 * step per component of the path whatever the number of symlinks, and a
 * hostile archive cannot make the check quadratic.
 */
export function createSymlinkIndex(): SymlinkIndex {
  const root: Node = { children: new Map(), symlink: false };
  return {
    add(path) {
      let node = root;
      for (const part of path.split("/")) {
        let child = node.children.get(part);
        if (!child) {
          child = { children: new Map(), symlink: false };
          node.children.set(part, child);
        }
        node = child;
      }
      node.symlink = true;
    },
    through(path) {
      const parts = path.split("/");
      let node: Node | undefined = root;
      for (let i = 0; i < parts.length - 1 && node; i++) {
        node = node.children.get(parts[i] ?? "");
        if (node?.symlink) return parts.slice(0, i + 1).join("/");
      }
      return undefined;
    },
  };
}
