import { InvalidDbConnectionError } from "./errors.js";

/** A parsed `[metadata] db_connection`. */
export type DbTarget =
  | { readonly kind: "sqlite"; readonly path: string }
  | {
      readonly kind: "postgres";
      readonly url: string;
      readonly host: string;
      readonly port: number;
      readonly database: string;
    };

/**
 * Parses `sqlite:<path>` (`sqlite::memory:` for an in-memory database) or
 * `postgres://user:pass@host:port/db` (also `postgresql://`). The input may
 * hold a password, so errors show it with the password masked.
 */
export function parseDbConnection(text: string): DbTarget {
  if (text.startsWith("sqlite:")) {
    const path = text.slice("sqlite:".length);
    if (path === "") throw new InvalidDbConnectionError(text, "expected sqlite:<path>");
    return { kind: "sqlite", path };
  }
  if (text.startsWith("postgres://") || text.startsWith("postgresql://")) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new InvalidDbConnectionError(maskPassword(text), "expected postgres://user:password@host:port/database");
    }
    if (url.hostname === "") {
      throw new InvalidDbConnectionError(maskPassword(text), "expected a host in postgres://user:password@host:port/database");
    }
    const port = url.port === "" ? 5432 : Number(url.port);
    const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres";
    return { kind: "postgres", url: text, host: url.hostname, port, database };
  }
  throw new InvalidDbConnectionError(maskPassword(text), "expected sqlite:<path> or postgres://…");
}

/** `target` as safe to print: the path, or host:port/database without credentials. */
export function describeDbTarget(target: DbTarget): string {
  return target.kind === "sqlite"
    ? `sqlite ${target.path}`
    : `postgres at ${target.host}:${target.port}/${target.database}`;
}

/** The password hidden whole, up to the last `@` (it may contain `@` itself), and any `password=` parameter. */
function maskPassword(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^]*@/, "$1***@").replace(/([?&]password=)[^&#]*/gi, "$1***");
}
