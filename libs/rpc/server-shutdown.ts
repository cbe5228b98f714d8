import { DomainError } from "../errors/domain-error.js";

/** What a caller starting a build hears while the server drains. */
export const shuttingDownRefusal = "the server is shutting down; retry on another replica";

/**
 * The reason builds still running when the shutdown grace ends are stopped
 * with; their records say canceled with this message. `unavailable`, so a
 * main install whose builder node stops tries another node.
 */
export class ServerShuttingDownError extends DomainError {
  constructor() {
    super("unavailable", "server shutting down");
  }
}

/** True when `reason` (an abort reason) is the server's shutdown. */
export function isServerShutdown(reason: unknown): reason is ServerShuttingDownError {
  return reason instanceof ServerShuttingDownError;
}
