import { DomainError } from "../errors/domain-error.js";

/** The repository does not exist or is not exported by its server. */
export class RepositoryNotFoundError extends DomainError {
  readonly repository: string;
  constructor(repository: string, options?: { cause?: unknown }) {
    super("notFound", `repository "${repository}" was not found: expected a reachable git repository`, options);
    this.repository = repository;
  }
}

/** A branch, tag or commit that the repository does not have. */
export class RefNotFoundError extends DomainError {
  readonly repository: string;
  readonly ref: string;
  constructor(repository: string, ref: string, options?: { cause?: unknown }) {
    super("notFound", `ref "${ref}" was not found in repository "${repository}": expected a branch, tag or commit sha`, options);
    this.repository = repository;
    this.ref = ref;
  }
}

/** A folder or file inside a commit that does not exist (or has the wrong kind). */
export class PathNotFoundError extends DomainError {
  readonly repository: string;
  readonly path: string;
  constructor(repository: string, commit: string, path: string, expected: string) {
    super("notFound", `path "${path}" was not found in repository "${repository}" at ${commit || "the given folder"}: expected ${expected}`);
    this.repository = repository;
    this.path = path;
  }
}

/** The server refused the credentials (or asked for some and none were given). */
export class GitAuthError extends DomainError {
  readonly repository: string;
  constructor(repository: string) {
    super("unauthenticated", `authentication failed for repository "${repository}": check the git credentials for it`);
    this.repository = repository;
  }
}

/** A path from a request that would leave its folder, or is otherwise malformed. */
export class UnsafePathError extends DomainError {
  readonly field: string;
  readonly value: string;
  constructor(field: string, value: string, expected: string) {
    super("invalidArgument", `${field} "${value}" is not valid: expected ${expected}`);
    this.field = field;
    this.value = value;
  }
}

/** A repository string that is not a URL or path we can use. */
export class InvalidRepositoryError extends DomainError {
  constructor(repository: string, expected: string) {
    super("invalidArgument", `repository "${repository}" is not valid: expected ${expected}`);
  }
}

/** A git operation that ran past its time limit and was killed. */
export class GitTimeoutError extends DomainError {
  constructor(repository: string, operation: string, timeoutMs: number) {
    super("deadlineExceeded", `git ${operation} for repository "${repository}" took longer than ${Math.round(timeoutMs / 1000)}s and was stopped`);
  }
}

/** The caller cancelled while git was running; git was killed. */
export class GitCanceledError extends DomainError {
  constructor(repository: string, operation: string) {
    super("canceled", `git ${operation} for repository "${repository}" was cancelled`);
  }
}

/** Git failed for a reason not covered above (network, server error…). */
export class GitCommandError extends DomainError {
  readonly stderr: string;
  constructor(repository: string, operation: string, stderr: string) {
    super("unavailable", `git ${operation} for repository "${repository}" failed: ${stderr || "no details"}`);
    this.stderr = stderr;
  }
}
