import type { GitAuthConfig } from "../../libs/config/config-types.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import type { GitAuth } from "../../libs/git/git-auth.js";
import { hostEntryMatches, repositoryHost } from "../../libs/git/git-host.js";
import type { ParsedRepository } from "../../libs/git/git-url.js";
import type { Secret } from "../../libs/secret/secret.js";

/** Credentials sent with one request; they take precedence and are never stored. */
export interface RequestCredentials {
  readonly username: string;
  readonly password: Secret | undefined;
  readonly privateKey: Secret | undefined;
}

/** A `[git_auth.<name>]` entry named by a request that the configuration lacks. */
export class GitAuthNotConfiguredError extends DomainError {
  readonly authName: string;
  constructor(authName: string, known: readonly string[]) {
    super(
      "invalidArgument",
      `git auth "${authName}" is not configured: expected one of ${known.length ? known.map((k) => `"${k}"`).join(", ") : "no entries ([git_auth.<name>] is empty)"}`,
    );
    this.authName = authName;
  }
}

/** A request naming a `[git_auth.<name>]` entry for a repository the entry may not be sent to. */
export class GitAuthRefusedError extends DomainError {
  readonly authName: string;
  readonly repository: string;
  constructor(authName: string, repository: string, reason: string) {
    super("permissionDenied", `git auth "${authName}" is not sent to repository "${repository}": ${reason}`);
    this.authName = authName;
    this.repository = repository;
  }
}

/**
 * Why an entry may not go to `repo`, or undefined when it may: the
 * repository's host and port must be in its `hosts`, and plain `http://` or
 * `git://` needs its `allow_plaintext`. Local paths and `file://` never get
 * a configured credential.
 */
export function entryRefusal(name: string, entry: GitAuthConfig, repo: ParsedRepository): string | undefined {
  const target = repositoryHost(repo);
  if (target === undefined) return "a local repository needs no credential";
  if (!entry.hosts.some((h) => hostEntryMatches(h, target, repo.transport))) {
    const listed = entry.hosts.length ? entry.hosts.map((h) => `"${h}"`).join(", ") : "no host";
    return `host "${target.display}" is not in [git_auth.${name}] hosts (${listed})`;
  }
  if (target.plaintext && !entry.allowPlaintext) {
    return `${repo.transport}:// sends it in clear; set [git_auth.${name}] allow_plaintext = true to allow it`;
  }
  return undefined;
}

/**
 * Chooses the credentials of a request: its own (sent only to the
 * repository's own host), else the named `[git_auth.<name>]` entry (refused
 * when the repository is not one of its hosts or is plaintext without its
 * opt-in), else `[security] default_git_auth` when it applies to this
 * repository, else none.
 */
export function chooseGitAuth(
  request: RequestCredentials | undefined,
  authName: string,
  entries: Readonly<Record<string, GitAuthConfig>>,
  defaultName: string,
  repo: ParsedRepository,
): GitAuth | undefined {
  const hasOwn = request !== undefined && (request.username !== "" || request.password !== undefined || request.privateKey !== undefined);
  if (hasOwn) {
    return { username: request.username, password: request.password, privateKey: request.privateKey, keyFilePath: "" };
  }
  const name = authName || defaultName;
  if (name === "") return undefined;
  const entry = entries[name];
  if (entry === undefined) throw new GitAuthNotConfiguredError(name, Object.keys(entries).sort());
  const refusal = entryRefusal(name, entry, repo);
  if (refusal !== undefined) {
    // The default applies only where it may go; elsewhere the fetch is anonymous.
    if (authName === "") return undefined;
    throw new GitAuthRefusedError(name, repo.display, refusal);
  }
  return { username: entry.userId, password: entry.password, privateKey: entry.privateKey, keyFilePath: entry.keyFilePath };
}
