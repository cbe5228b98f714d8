import { DomainError, type ErrorCode } from "../../libs/errors/domain-error.js";

/** The build lease `key` can no longer be trusted: the build holding it must stop. */
export class LeaseLostError extends DomainError {
  constructor(readonly key: string, why: string) {
    super("aborted", `build lease ${key} was lost: ${why}`);
  }
}

/** The metadata database stayed away for the whole outage budget while `what` was written. */
export class MetadataOutageError extends DomainError {
  constructor(readonly what: string, readonly budgetMs: number, lastError: string, options?: { cause?: unknown }) {
    super(
      "unavailable",
      `the metadata database was unavailable for more than ${Math.round(budgetMs / 100) / 10} s ([metadata] outage_budget_secs) while ${what}: ${lastError}`,
      options,
    );
  }
}

/** A build record was asked to finish a second time. */
export class RecordFinishedError extends DomainError {
  constructor(readonly buildId: string) {
    super("internal", `build ${buildId} record was already finished`);
  }
}

/**
 * A build that did not end ready: the code and message of its `Failed`
 * event (canceled too), and the service's hint of when to retry.
 */
export class BuildFailedError extends DomainError {
  constructor(readonly buildId: string, code: ErrorCode, message: string, readonly retryAfterSecs?: number) {
    super(code, message);
  }
}

/** Another process holds the build lease of `reference` but records no running build. */
export class NoRunningBuildError extends DomainError {
  constructor(readonly reference: string) {
    super("unavailable", `another process holds the build lease for ${reference} but records no running build: retry later`);
  }
}

/** Every caller left while this process followed another process's build. */
export class FollowCanceledError extends DomainError {
  constructor() {
    super("canceled", "build canceled while following another process's build");
  }
}

/**
 * A build whose passes together took longer than its timeout: the builder
 * bounds each pass, the resolver the passes together.
 */
export class BuildPassesTimeoutError extends DomainError {
  constructor(readonly buildId: string, readonly timeoutSecs: number, readonly passes: number) {
    super("deadlineExceeded", `build ${buildId} timed out after ${timeoutSecs}s (builder.build_timeout_secs) in ${passes} passes and was stopped`);
  }
}
