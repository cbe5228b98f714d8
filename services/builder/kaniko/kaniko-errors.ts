import { DomainError, type ErrorCode } from "../../../libs/errors/domain-error.js";

/** A secret build arg whose name cannot be an environment variable, so Kaniko could not read it. */
export class SecretArgNameError extends DomainError {
  readonly argName: string;
  constructor(argName: string) {
    super("invalidArgument", `secret build arg "${argName}" is not a valid environment variable name: expected letters, digits and _ not starting with a digit`);
    this.argName = argName;
  }
}

/** The build pod did not start: unschedulable, image pull error, bad config, or no start in time. */
export class PodStartError extends DomainError {
  readonly pod: string;
  readonly reason: string;
  constructor(code: ErrorCode, pod: string, reason: string, detail: string) {
    super(code, `kaniko pod "${pod}" did not start: ${reason}${detail === "" ? "" : `: ${detail}`}`);
    this.pod = pod;
    this.reason = reason;
  }
}

/** Kaniko ran and failed; the message carries the tail of its log. */
export class KanikoBuildFailedError extends DomainError {
  readonly job: string;
  readonly logTail: string;
  constructor(job: string, reason: string, logTail: string) {
    super("failedPrecondition", `kaniko job "${job}" failed: ${reason}${logTail === "" ? "" : `\n${logTail}`}`);
    this.job = job;
    this.logTail = logTail;
  }
}

/** The build ran past `build_timeout_secs` (the Job's deadline or our own timer). */
export class KanikoTimeoutError extends DomainError {
  readonly job: string;
  constructor(job: string, timeoutSecs: number) {
    super("deadlineExceeded", `kaniko job "${job}" exceeded its deadline of ${timeoutSecs}s`);
    this.job = job;
  }
}

/** A Kubernetes API call failed; names the operation and the object. */
export class KubeApiError extends DomainError {
  readonly operation: string;
  constructor(code: ErrorCode, operation: string, detail: string, cause?: unknown) {
    super(code, `kubernetes ${operation} failed: ${detail}`, { cause });
    this.operation = operation;
  }
}
