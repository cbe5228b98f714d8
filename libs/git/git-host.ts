import type { GitTransport, ParsedRepository } from "./git-url.js";

/** The port each network transport uses when a URL names none. */
export const DEFAULT_PORTS: Readonly<Record<Exclude<GitTransport, "file" | "local">, number>> = {
  https: 443,
  http: 80,
  git: 9418,
  ssh: 22,
};

/** Where a remote repository is reached. */
export interface RepositoryHost {
  /** Lower-case host name or address (IPv6 in brackets, as URLs write it). */
  readonly host: string;
  readonly port: number;
  /** `http://` and `git://`: anyone on the path reads what is sent. */
  readonly plaintext: boolean;
  /** `host` or `host:port` as an operator would write it in `hosts`. */
  readonly display: string;
}

/** The host and port of a network repository; undefined for a local path or `file://`. */
export function repositoryHost(repo: ParsedRepository): RepositoryHost | undefined {
  if (repo.transport === "local" || repo.transport === "file") return undefined;
  const fallback = DEFAULT_PORTS[repo.transport];
  let host: string;
  let port = fallback;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo.url)) {
    const u = new URL(repo.url);
    host = u.hostname;
    if (u.port !== "") port = Number(u.port);
  } else {
    // scp-like `user@host:path`
    host = (repo.url.split(":")[0] ?? "").replace(/^.*@/, "");
  }
  host = host.toLowerCase();
  const plaintext = repo.transport === "http" || repo.transport === "git";
  return { host, port, plaintext, display: port === fallback ? host : `${host}:${port}` };
}

/** A `hosts` entry split into host and port; undefined when it is not `host` or `host:port`. */
export function parseHostEntry(entry: string): { host: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/i.exec(entry.trim());
  if (m === null) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host: (m[1] ?? "").toLowerCase(), port };
}

/**
 * True when `entry` (`host` or `host:port`) names where `target` is: the
 * same host and the same port, a bare host standing for the transport's
 * default port (443, 80, 9418 or 22).
 */
export function hostEntryMatches(entry: string, target: RepositoryHost, transport: GitTransport): boolean {
  const parsed = parseHostEntry(entry);
  if (parsed === undefined || parsed.host !== target.host) return false;
  const fallback = transport === "local" || transport === "file" ? undefined : DEFAULT_PORTS[transport];
  return (parsed.port ?? fallback) === target.port;
}
