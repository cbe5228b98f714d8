import { DomainError, isDomainError } from "../../libs/errors/domain-error.js";

/**
 * The builder's error vocabulary: every mode and both wire formats end a
 * build with one of these (or a mode's own failure), so a timeout, a
 * cancellation or a refused request reads the same whichever path ran it.
 */

/** A build that ran past its time limit (the job's `timeout_secs`, by default `[builder] build_timeout_secs`). */
export class BuildTimeoutError extends DomainError {
  constructor(readonly buildId: string, readonly timeoutSecs: number) {
    super("deadlineExceeded", `build ${buildId} timed out after ${timeoutSecs}s (builder.build_timeout_secs) and was stopped`);
  }
}

/** A build stopped by `CancelBuild` or by its caller going away. */
export class BuildCanceledError extends DomainError {
  constructor(readonly buildId: string) {
    super("canceled", `build ${buildId} was canceled`);
  }
}

/**
 * Why a build's `signal` was aborted: the lifecycle aborts with a
 * `BuildTimeoutError` or `BuildCanceledError`, which a mode rethrows as is;
 * any other abort (a caller of the mode alone) reads as a cancellation.
 */
export function abortReason(signal: AbortSignal, buildId: string): DomainError {
  return isDomainError(signal.reason) ? signal.reason : new BuildCanceledError(buildId);
}

export { RegistryRequiredError, SecretArgUnsupportedError } from "../../libs/build/capability-check.js";

/** The registry does not hold what a build reported it pushed. */
export class PushNotVerifiedError extends DomainError {
  /** `by` names who pushed: `builder node http://…`, `kaniko job "bp-…"`. */
  constructor(readonly by: string, readonly reference: string, reported: string, found: string | undefined) {
    super(
      "dataLoss",
      found === undefined
        ? `${by} reported pushing ${reference} (${reported}) but the registry has no such manifest`
        : `${by} reported ${reference} as ${reported} but the registry has ${found}`,
    );
  }
}

/** The context is larger than `[builder] max_upload_bytes`. */
export class UploadTooLargeError extends DomainError {
  constructor(readonly limitBytes: number) {
    super("resourceExhausted", `build context is larger than builder.max_upload_bytes (${limitBytes} bytes): shrink the context (.dockerignore) or raise the limit`);
  }
}

/**
 * A second pass over a build context that was streamed without being kept
 * (`replayable: false`): a bug of the caller, which promised never to resend.
 */
export class ContextPassRepeatedError extends DomainError {
  constructor(readonly pass: number) {
    super("internal", `build context pass ${pass} was asked for, but the context is streamed once and not kept: expected a single pass when it is not replayable`);
  }
}
