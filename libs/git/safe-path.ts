import { UnsafePathError } from "./git-errors.js";

/**
 * Normalizes a folder or file path taken from a request ("./a//b/" → "a/b",
 * "" or "." → "") and rejects what could leave its root: absolute paths,
 * ".." components, NUL bytes and backslashes.
 */
export function normalizeRelativePath(field: string, value: string): string {
  const expected = "a relative path inside the repository, without '..'";
  if (value.includes("\0") || value.includes("\\") || value.startsWith("/")) {
    throw new UnsafePathError(field, value, expected);
  }
  const parts = value.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) throw new UnsafePathError(field, value, expected);
  return parts.join("/");
}

/** Joins two normalized relative paths. */
export function joinRelative(a: string, b: string): string {
  return a === "" ? b : b === "" ? a : `${a}/${b}`;
}
