import { InvalidFieldError } from "./errors.js";

/**
 * Opaque page tokens: the last id of a page, base64url-encoded with a kind
 * prefix so a token from one list is refused by another.
 */
export function encodePageToken(kind: string, lastId: string): string {
  return Buffer.from(`${kind}:${lastId}`, "utf8").toString("base64url");
}

/** The id a token continues after, or undefined for "" (first page). */
export function decodePageToken(kind: string, token: string): string | undefined {
  if (token === "") return undefined;
  const text = Buffer.from(token, "base64url").toString("utf8");
  if (!text.startsWith(`${kind}:`) || text.length === kind.length + 1) {
    throw new InvalidFieldError("page_token", token, `a token returned by a previous ${kind} call`);
  }
  return text.slice(kind.length + 1);
}

/** `page_size` with 0 meaning the default and a hard maximum. */
export function pageSize(requested: number, fallback = 50, max = 1000): number {
  return requested === 0 ? fallback : Math.min(requested, max);
}
