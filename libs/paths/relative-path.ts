import { posix } from "node:path";
import { DomainError } from "../errors/domain-error.js";

/** A path from a request that would leave its context folder. */
export class PathEscapesContextError extends DomainError {
  constructor(readonly what: string, readonly value: string, reason: string) {
    super("invalidArgument", `${what} "${value}" is not valid: ${reason}`);
  }
}

/**
 * Checks a path taken from a request (build folder, containerfile) and
 * returns it normalised (slash-separated, no `.` segments; "" for the root).
 * Absolute paths, `..` segments, backslashes and NUL bytes are refused, so
 * the path can never escape the context it is joined to.
 */
export function confinedRelativePath(what: string, value: string): string {
  if (value.includes("\0")) throw new PathEscapesContextError(what, value.replaceAll("\0", "\\0"), "it contains a NUL byte");
  if (value.includes("\\")) throw new PathEscapesContextError(what, value, "expected a relative path with / separators");
  if (value.startsWith("/")) throw new PathEscapesContextError(what, value, "expected a relative path, not an absolute one");
  const segments = value.split("/");
  if (segments.includes("..")) throw new PathEscapesContextError(what, value, "it must not contain .. segments");
  const normal = posix.normalize(value === "" ? "." : value).replace(/\/+$/, "");
  return normal === "." ? "" : normal;
}
