import { DomainError, type ErrorCode } from "../../../libs/errors/domain-error.js";

/**
 * A builder node that could not be reached or went away (connection refused,
 * reset, ping timeout). `started` tells whether the build had begun there:
 * either way the delegate mode may try another node, since the context is
 * spooled and can be sent again.
 */
export class BuilderNodeLostError extends DomainError {
  constructor(readonly node: string, readonly started: boolean, reason: string, options?: { cause?: unknown }) {
    super("unavailable", `builder node ${node} ${started ? "was lost mid-build" : "could not be reached"}: ${reason}`, options);
  }
}

/** Every node was tried, or none is healthy. */
export class NoBuilderNodeError extends DomainError {
  constructor(readonly nodes: readonly string[], detail: string) {
    super("unavailable", `no builder node could run the build: ${detail}`);
  }
}

/** A node answered the build with an error of its own (bad request, failed build, refused token). */
export class BuilderNodeRejectedError extends DomainError {
  constructor(readonly node: string, code: ErrorCode, message: string) {
    super(code, `builder node ${node}: ${message}`);
  }
}

export { UploadTooLargeError } from "../build-errors.js";

/** The delegate mode was configured or called without something it needs. */
export class DelegateSetupError extends DomainError {
  constructor(message: string) {
    super("failedPrecondition", message);
  }
}
