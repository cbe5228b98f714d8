import type { PushedRef, PushEvent } from "./push-event.js";

/** The part of an app a push is matched against. */
export interface FollowedApp {
  readonly id: string;
  readonly repository: string;
  /** Branch, tag, full ref, a pattern (`release/*`, `refs/tags/v*`), or "" for the default branch. */
  readonly ref: string;
}

/** An app to build at a commit, and the ref that moved. */
export interface PrebuildTarget<A extends FollowedApp> {
  readonly app: A;
  readonly ref: string;
  readonly commit: string;
}

/**
 * The apps a push builds: those whose repository is one the payload names
 * (compared without scheme, credentials, `.git` or case) and whose ref or
 * pattern matches a moved ref. Each app at most once per commit.
 */
export function appsForPush<A extends FollowedApp>(push: PushEvent, apps: readonly A[]): PrebuildTarget<A>[] {
  const urls = new Set(push.repositoryUrls.map(repositoryIdentity).filter((u) => u !== ""));
  const out: PrebuildTarget<A>[] = [];
  for (const app of apps) {
    if (!urls.has(repositoryIdentity(app.repository))) continue;
    const seen = new Set<string>();
    for (const moved of push.refs) {
      if (!refMatches(app.ref, moved, push.defaultBranch) || seen.has(moved.commit)) continue;
      seen.add(moved.commit);
      out.push({ app, ref: moved.ref, commit: moved.commit });
    }
  }
  return out;
}

/**
 * A repository URL reduced to what names the repository: host (with a
 * non-default port for http and https) and path, lower case, without
 * scheme, user, password, `.git` or trailing slash. `git@host:org/app.git`,
 * `ssh://git@host/org/app`, `https://host/org/app.git` are all `host/org/app`.
 * A local path or `file://` URL is `file:<path>`.
 */
export function repositoryIdentity(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, "").replace(/\.git$/i, "").replace(/\/+$/, "");
  if (trimmed === "") return "";
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(trimmed);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return `${(scp[1] ?? "").toLowerCase()}/${(scp[2] ?? "").replace(/^\/+/, "").toLowerCase()}`;
  if (trimmed.startsWith("/")) return `file:${trimmed}`;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return "";
  }
  if (parsed.protocol === "file:") return `file:${decodeURIComponent(parsed.pathname)}`;
  const keepPort = (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.port !== "";
  const host = parsed.hostname.toLowerCase() + (keepPort ? `:${parsed.port}` : "");
  return `${host}${decodeURIComponent(parsed.pathname).toLowerCase()}`;
}

/**
 * Whether an app's ref follows a moved ref: "" the default branch; a name
 * without `refs/` a branch or tag of that name; `refs/…` the full name; `*`
 * in either form matches within one path segment, `**` across segments.
 */
export function refMatches(appRef: string, moved: PushedRef, defaultBranch: string): boolean {
  if (appRef === "") return defaultBranch !== "" && moved.ref === `refs/heads/${defaultBranch}`;
  if (appRef.startsWith("refs/")) return globMatch(appRef, moved.ref);
  const short = moved.ref.startsWith("refs/heads/") ? moved.ref.slice(11) : moved.ref.startsWith("refs/tags/") ? moved.ref.slice(10) : undefined;
  return short !== undefined && globMatch(appRef, short);
}

function globMatch(pattern: string, text: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === text;
  const source = pattern
    .split(/(\*\*|\*|\?)/)
    .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`).test(text);
}
