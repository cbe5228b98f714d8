import type { Interceptor } from "@connectrpc/connect";
import { DomainError } from "../../../libs/errors/domain-error.js";
import { BuilderService, type BuildRequest } from "../../../libs/gen/buildplane/v1/builder_pb.js";
import type { Secret } from "../../../libs/secret/secret.js";
import { UploadTooLargeError } from "./delegate-errors.js";

/** A builder node configured to accept builds it could not authenticate. */
export class BuilderNodeConfigError extends DomainError {
  constructor(message: string) {
    super("failedPrecondition", message);
  }
}

/** A delegated build refused because this server does not take builds over TCP. */
export class DelegatedBuildsDisabledError extends DomainError {
  constructor() {
    super("permissionDenied", "delegated builds over TCP need [security] admin_over_tcp = true on this builder node");
  }
}

/** The settings that decide whether a server acts as a builder node. */
export interface BuilderNodeSettings {
  /** `[security] admin_over_tcp`. */
  readonly adminOverTcp: boolean;
  /** `[system] builder_auth_token`. */
  readonly builderAuthToken: Secret | undefined;
}

/**
 * Start-up check of a builder node: accepting builds over TCP without a
 * token would let anyone on the network build and push, so it is refused
 * with the setting to add.
 */
export function assertBuilderNodeSettings(settings: BuilderNodeSettings): void {
  if (settings.adminOverTcp && (settings.builderAuthToken === undefined || settings.builderAuthToken.isEmpty)) {
    throw new BuilderNodeConfigError(
      "security.admin_over_tcp = true needs a token for delegated builds: set [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)",
    );
  }
}

const guarded: ReadonlySet<string> = new Set(["Build", "CancelBuild"]);

/**
 * A server interceptor for the TCP listener of `buildplane serve`: `Build`
 * and `CancelBuild` of the builder service answer `PermissionDenied` naming
 * `[security] admin_over_tcp` unless it is on, and a `Build` stream carrying
 * more than `maxUploadBytes` of context is cut with `ResourceExhausted`.
 * Health, `GetStatus` and `HasImage` stay open so pools can probe the node.
 * In-process calls (all-in-one) do not pass through this listener.
 */
export function createBuilderNodeGuard(options: { readonly adminOverTcp: boolean; readonly maxUploadBytes: number }): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName !== BuilderService.typeName || !guarded.has(req.method.name)) return next(req);
    if (!options.adminOverTcp) throw new DelegatedBuildsDisabledError();
    if (req.method.name !== "Build" || !req.stream) return next(req);
    return next({ ...req, message: limitContext(req.message as AsyncIterable<BuildRequest>, options.maxUploadBytes) } as typeof req);
  };
}

async function* limitContext(messages: AsyncIterable<BuildRequest>, maxBytes: number): AsyncGenerator<BuildRequest> {
  let total = 0;
  for await (const m of messages) {
    if (m.message.case === "chunk") {
      total += m.message.value.length;
      if (total > maxBytes) throw new UploadTooLargeError(maxBytes);
    }
    yield m;
  }
}
