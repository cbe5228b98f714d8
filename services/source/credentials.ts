import type { GitAuthConfig } from "../../libs/config/config-types.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import type { GitAuth } from "../../libs/git/git-auth.js";
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

/**
 * Chooses the credentials of a request: its own, else the named
 * `[git_auth.<name>]` entry, else `[security] default_git_auth`, else none.
 */
export function chooseGitAuth(
  request: RequestCredentials | undefined,
  authName: string,
  entries: Readonly<Record<string, GitAuthConfig>>,
  defaultName: string,
): GitAuth | undefined {
  const hasOwn = request !== undefined && (request.username !== "" || request.password !== undefined || request.privateKey !== undefined);
  if (hasOwn) {
    return { username: request.username, password: request.password, privateKey: request.privateKey, keyFilePath: "" };
  }
  const name = authName || defaultName;
  if (name === "") return undefined;
  const entry = entries[name];
  if (entry === undefined) throw new GitAuthNotConfiguredError(name, Object.keys(entries).sort());
  return { username: entry.userId, password: entry.password, privateKey: entry.privateKey, keyFilePath: entry.keyFilePath };
}
