import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError, isDomainError } from "../../../libs/errors/domain-error.js";
import { errorCodeOf } from "../../../libs/rpc/code-names.js";
import { BuilderNodeLostError, BuilderNodeRejectedError } from "./delegate-errors.js";

/** Codes a dead connection shows up as, rather than an answer of the node. */
const transportCodes: ReadonlySet<Code> = new Set([Code.Unavailable, Code.Internal, Code.Unknown, Code.Canceled, Code.DeadlineExceeded, Code.Aborted]);

/**
 * Turns the failure of a call to a node into a domain error: our own
 * cancellation stays a cancellation; a refused token or a bad request is the
 * node's answer; a transport-looking failure becomes `BuilderNodeLostError`
 * unless the node still answers a health check, in which case it was the
 * node's own answer after all (for instance, its registry push failed).
 */
export async function classifyNodeError(
  node: string,
  err: unknown,
  started: boolean,
  signal: AbortSignal,
  stillAlive: () => Promise<boolean>,
): Promise<DomainError> {
  if (signal.aborted) return isDomainError(signal.reason) ? signal.reason : new DomainError("canceled", `delegated build on ${node} was canceled`);
  if (err instanceof BuilderNodeLostError || err instanceof BuilderNodeRejectedError) return err;
  if (isDomainError(err)) return err;
  const ce = ConnectError.from(err);
  if (ce.code === Code.Unauthenticated) {
    return new BuilderNodeRejectedError(node, "unauthenticated", `${ce.rawMessage}: the node refused the token (set the same [system] builder_auth_token on both sides)`);
  }
  if (!transportCodes.has(ce.code)) return new BuilderNodeRejectedError(node, errorCodeOf(ce.code), ce.rawMessage);
  // An unanswered HTTP/2 ping already says the node does not answer: a health check would only wait as long again.
  if (!pingTimedOut(err) && (await stillAlive())) return new BuilderNodeRejectedError(node, errorCodeOf(ce.code), ce.rawMessage);
  return new BuilderNodeLostError(node, started, ce.rawMessage, { cause: err });
}

/** Whether `err` (or an error it wraps) is connect-node's "PING timed out" for the connection. */
function pingTimedOut(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/\bPING timed out\b/.test(e.message)) return true;
  }
  return false;
}
