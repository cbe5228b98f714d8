/** A Kubernetes `Status` failure, thrown inside the test server and written as the response. */
export class KubeStatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: { name?: string; group?: string; kind?: string } | undefined;
  constructor(code: number, reason: string, message: string, details?: { name?: string; group?: string; kind?: string }) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The `Status` object the real API server sends. */
  toStatus(): Record<string, unknown> {
    return {
      kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure",
      message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code,
    };
  }
}

/** `<resource>[.<group>] "<name>" not found`, as the API server words it. */
export function notFound(resource: string, group: string, name: string): KubeStatusError {
  const full = group === "" ? resource : `${resource}.${group}`;
  return new KubeStatusError(404, "NotFound", `${full} "${name}" not found`, { name, kind: resource, ...(group ? { group } : {}) });
}

export function alreadyExists(resource: string, group: string, name: string): KubeStatusError {
  const full = group === "" ? resource : `${resource}.${group}`;
  return new KubeStatusError(409, "AlreadyExists", `${full} "${name}" already exists`, { name, kind: resource, ...(group ? { group } : {}) });
}

export function invalid(kind: string, group: string, name: string, detail: string): KubeStatusError {
  const full = group === "" ? kind : `${kind}.${group}`;
  return new KubeStatusError(422, "Invalid", `${full} "${name}" is invalid: ${detail}`, { name, kind: kind.toLowerCase() + "s", ...(group ? { group } : {}) });
}

export function badRequest(message: string): KubeStatusError {
  return new KubeStatusError(400, "BadRequest", message);
}
