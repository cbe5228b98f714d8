import { DomainError } from "../../libs/errors/domain-error.js";

/** No build has this id. */
export class BuildNotFoundError extends DomainError {
  constructor(readonly buildId: string) {
    super("notFound", `build ${buildId} not found`);
  }
}

/** No app has this id. */
export class AppNotFoundError extends DomainError {
  constructor(readonly appId: string) {
    super("notFound", `app ${appId} not found`);
  }
}

/** A status change the build life cycle does not allow. */
export class IllegalTransitionError extends DomainError {
  constructor(readonly buildId: string, readonly from: string, readonly to: string) {
    super("failedPrecondition", `build ${buildId} cannot go from ${from} to ${to}`);
  }
}

/** A final build is read-only: no field changes, no more log lines. */
export class BuildFinalError extends DomainError {
  constructor(readonly buildId: string, readonly status: string, what: string) {
    super("failedPrecondition", `build ${buildId} is ${status}, a final status: ${what}`);
  }
}

/** The caller's fencing token is no longer the current one of the lease. */
export class StaleFencingTokenError extends DomainError {
  constructor(readonly subject: string, readonly leaseKey: string, readonly token: number) {
    super("failedPrecondition", `${subject}: token ${token} of lease ${leaseKey} is not current`);
  }
}

/** The lease expired or changed hands. */
export class LeaseNotHeldError extends DomainError {
  constructor(readonly key: string, readonly holder: string, readonly token: number) {
    super("failedPrecondition", `lease ${key} is not held by ${holder} with token ${token}`);
  }
}

/** A request field with a value we cannot take. */
export class InvalidFieldError extends DomainError {
  constructor(readonly field: string, readonly value: string, expected: string) {
    super("invalidArgument", `${field} ${JSON.stringify(value)} is not valid: expected ${expected}`);
  }
}

/** The metadata database is not connected (yet). */
export class MetadataUnavailableError extends DomainError {
  constructor(readonly target: string, reason: string) {
    super("unavailable", `metadata database ${target} is not available: ${reason}`);
  }
}
