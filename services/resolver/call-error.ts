import { DomainError, type ErrorCode } from "../../libs/errors/domain-error.js";

/** What a failed call tells besides its code and message. */
export interface CallErrorFacts {
  /**
   * The other end went away (its process died, the connection dropped)
   * instead of answering with a status: the call ended canceled without
   * anyone here asking it to stop.
   */
  readonly connectionLost?: boolean;
  /** When the service said to try again, in seconds (a full build queue). */
  readonly retryAfterSecs?: number | undefined;
}

/**
 * A call that ended with a status instead of an answer: a call to another
 * service through a port (ports.ts), or the caller's own call to this one
 * when it stopped. Its code and message are the ones the status carried,
 * word for word; the adapters turn RPC errors into it (wire-in.ts), so the
 * flow classifies failures by domain code only.
 */
export class CallError extends DomainError {
  readonly connectionLost: boolean;
  readonly retryAfterSecs: number | undefined;

  constructor(code: ErrorCode, message: string, facts: CallErrorFacts = {}, options?: { cause?: unknown }) {
    super(code, message, options);
    this.connectionLost = facts.connectionLost ?? false;
    this.retryAfterSecs = facts.retryAfterSecs;
  }
}

/** True when `err` is a call whose other end went away without a status (see `CallErrorFacts.connectionLost`). */
export function isConnectionLost(err: unknown): boolean {
  return err instanceof CallError && err.connectionLost;
}
