import { DomainError } from "../errors/domain-error.js";
import { InvalidReferenceError } from "./errors.js";
import { parseReference } from "./reference.js";

/** A reference a builder node may build and push: registry host, repository and tag, nothing left implicit. */
export interface PushReference {
  /** `host[:port]` as written in the reference. */
  readonly host: string;
  /** Repository path inside the registry, e.g. `project/cli-app`. */
  readonly repository: string;
  readonly tag: string;
}

const expectedShape = "expected <registry-host>/<repository>:<tag>, such as registry.example.com:5000/project/cli-app:0123456789abcdef";

/**
 * Hosts an engine files under a short name: Docker stores
 * `docker.io/library/busybox:latest` as `busybox:latest`, and Podman stores
 * short names under `localhost/`. A reference on one of them would re-tag a
 * local image that other users of the engine run.
 */
const shortNameHosts: ReadonlySet<string> = new Set(["docker.io", "index.docker.io", "localhost"]);

/**
 * Validates a reference sent by a network caller to a builder node:
 * `<registry-host>/<repository>:<tag>` with the host present (a name such as
 * `busybox:latest` or `cli-app:…` is never accepted, so a caller cannot
 * re-tag an image of the node's engine), repository components and tag per
 * the OCI distribution grammar, no digest, and not a host the engine maps
 * to short names. Throws `InvalidReferenceError` naming the reference and
 * the expected shape.
 */
export function parsePushReference(text: string): PushReference {
  let parsed;
  try {
    parsed = parseReference(text);
  } catch (err) {
    if (err instanceof InvalidReferenceError) {
      throw new InvalidReferenceError(text, `${err.message.replace(/^image reference "(?:[^"\\]|\\.)*" is not valid: /, "")}; ${expectedShape}`);
    }
    throw err;
  }
  if (parsed.domain === undefined) {
    throw new InvalidReferenceError(text, `it has no registry host (the first component needs a "." or ":port"); ${expectedShape}`);
  }
  if (parsed.digest !== undefined) throw new InvalidReferenceError(text, `a digest cannot be pushed to; ${expectedShape}`);
  if (parsed.tag === undefined) throw new InvalidReferenceError(text, `it has no tag; ${expectedShape}`);
  if (shortNameHosts.has(parsed.domain.toLowerCase())) {
    throw new InvalidReferenceError(
      text,
      `registry host ${JSON.stringify(parsed.domain)} is one the engine stores under short names, so the tag would replace a local image; ${expectedShape}`,
    );
  }
  return { host: parsed.domain, repository: parsed.path, tag: parsed.tag };
}

/** A push to a registry host outside `[builder] allowed_registries` of a builder node. */
export class RegistryNotAllowedError extends DomainError {
  constructor(readonly host: string, readonly allowed: readonly string[]) {
    super(
      "permissionDenied",
      `registry host ${JSON.stringify(host)} is not in [builder] allowed_registries of this builder node: expected one of ${allowed.join(", ")}`,
    );
  }
}

/**
 * Whether `host` (`host[:port]`) is one of `allowed` (lower-case
 * `host[:port]` entries, compared exactly: `example.com` and
 * `example.com:443` are different entries). An empty list allows any host.
 */
export function assertRegistryAllowed(host: string, allowed: readonly string[]): void {
  if (allowed.length === 0) return;
  if (!allowed.includes(host.toLowerCase())) throw new RegistryNotAllowedError(host, allowed);
}
