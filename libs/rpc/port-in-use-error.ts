import { DomainError } from "../errors/domain-error.js";

/** The RPC port is taken by another process. */
export class PortInUseError extends DomainError {
  constructor(readonly host: string, readonly port: number, options?: { cause?: unknown }) {
    super("unavailable", `port ${port} on ${host} is already in use: set [http] port or BUILDPLANE_HTTP_PORT`, options);
  }
}

/** The RPC server could not listen for another reason (permission, unknown address). */
export class ListenError extends DomainError {
  constructor(readonly host: string, readonly port: number, reason: string, options?: { cause?: unknown }) {
    super("unavailable", `cannot listen on port ${port} on ${host}: ${reason}: check [http] host and port`, options);
  }
}
