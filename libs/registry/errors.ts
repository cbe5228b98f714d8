import { DomainError, type ErrorCode } from "../errors/domain-error.js";

/**
 * Base of registry errors. `registry` is the host the client talks to;
 * `retryable` tells the retry loop whether another attempt can help
 * (429, 5xx, connection errors) or not (401, 403, 404, bad certificates).
 * No message ever carries a password or token.
 */
export class RegistryError extends DomainError {
  readonly registry: string;
  readonly retryable: boolean;

  constructor(code: ErrorCode, registry: string, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(code, message, options);
    this.registry = registry;
    this.retryable = retryable;
  }
}

/** 401 after the credentials were tried: names the registry and the user, never the password. */
export class RegistryUnauthenticatedError extends RegistryError {
  readonly username: string;

  constructor(registry: string, username: string) {
    super(
      "unauthenticated",
      registry,
      username === ""
        ? `registry "${registry}" requires authentication: set registry.username and registry.password or registry.password_file`
        : `registry "${registry}" rejected the credentials of user "${username}"`,
      false,
    );
    this.username = username;
  }
}

/** 403: the user is known but may not do this to this repository. */
export class RegistryPermissionDeniedError extends RegistryError {
  constructor(registry: string, username: string, what: string) {
    super("permissionDenied", registry, `registry "${registry}" denied ${username === "" ? "anonymous access to" : `user "${username}"`} ${what}`, false);
  }
}

/** The server's certificate does not verify against the system roots plus `ca_file`. */
export class RegistryCertificateError extends RegistryError {
  constructor(registry: string, reason: string, options?: { cause?: unknown }) {
    super(
      "failedPrecondition",
      registry,
      `registry "${registry}" presented a certificate that is not trusted (${reason}): set registry.ca_file to its CA bundle, or registry.insecure`,
      false,
      options,
    );
  }
}

/** Connection failures and 429/5xx answers; retried with backoff, then reported. */
export class RegistryUnavailableError extends RegistryError {
  readonly status: number | undefined;

  constructor(registry: string, detail: string, status: number | undefined, options?: { cause?: unknown }) {
    super("unavailable", registry, `registry "${registry}" is unavailable: ${detail}`, true, options);
    this.status = status;
  }
}

/** Any other answer the protocol does not allow at that point. */
export class RegistryProtocolError extends RegistryError {
  readonly status: number | undefined;

  constructor(registry: string, detail: string, status: number | undefined, code: ErrorCode = "internal") {
    super(code, registry, `registry "${registry}": ${detail}`, false);
    this.status = status;
  }
}

/** A registry setting that cannot be used (unreadable file, bad PEM). Names the key and the path. */
export class RegistryConfigError extends DomainError {
  readonly key: string;

  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super("failedPrecondition", `registry.${key} ${message}`, options);
    this.key = key;
  }
}

/** The caller's signal ended the operation. */
export class RegistryCanceledError extends RegistryError {
  constructor(registry: string, what: string) {
    super("canceled", registry, `${what} on registry "${registry}" was canceled`, false);
  }
}
