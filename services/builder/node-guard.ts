import type { Interceptor } from "@connectrpc/connect";
import { callerScopesKey } from "../../libs/rpc/caller-identity.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { BuilderService, type BuildRequest } from "../../libs/gen/buildplane/v1/builder_pb.js";
import type { Secret } from "../../libs/secret/secret.js";
import { UploadTooLargeError } from "./build-errors.js";
import { registryHost } from "../../libs/registry/registry-options.js";
import { assertRegistryAllowed, parsePushReference, type PushReference } from "../../libs/image/push-reference.js";

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

/**
 * A delegated build asking this node to push to an ECR registry with its own
 * AWS identity. The token would be minted for, and sent to, whatever host
 * the request names, so a node takes only pushes whose credentials come with
 * the request — or, in a split deployment, its own configured ECR registry.
 */
export class EcrTargetRefusedError extends DomainError {
  constructor(readonly registry: string) {
    super(
      "invalidArgument",
      `registry ${JSON.stringify(registry)} of type ecr is refused: this builder uses its AWS identity only for its own [registry] (type ecr); the main install must resolve ECR tokens and send user AWS with the token as the password`,
    );
  }
}

/** A delegated build whose destination registry is missing or is not the one its reference names. */
export class NodePushTargetError extends DomainError {
  constructor(message: string) {
    super("invalidArgument", message);
  }
}

/**
 * The check of every push a network caller asks of a builder node (gRPC
 * `Build` and OpenRun's endpoint alike): the reference is
 * `<registry-host>/<repository>:<tag>`, its host is the host of the
 * registry the image is pushed to, and that host is in `[builder]
 * allowed_registries` when the list is set. The node then builds and tags
 * only this reference, never a name without a registry host.
 */
export function checkNodePush(reference: string, registryUrl: string, allowedRegistries: readonly string[]): PushReference {
  if (registryUrl.trim() === "") {
    throw new NodePushTargetError(
      `build of ${JSON.stringify(reference)} names no registry: a builder node builds only images it pushes, expected registry.url host[:port][/path]`,
    );
  }
  const ref = parsePushReference(reference);
  const host = registryHost(registryUrl.trim());
  if (ref.host.toLowerCase() !== host.toLowerCase()) {
    throw new NodePushTargetError(
      `image reference ${JSON.stringify(reference)} does not name the registry it is pushed to: expected it to start with ${host}/`,
    );
  }
  assertRegistryAllowed(ref.host, allowedRegistries);
  return ref;
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

// CancelBuild is not among them: stopping a build creates and pushes nothing, and the scope
// table already limits it to node and admin credentials (the web page's cancel button).
const guarded: ReadonlySet<string> = new Set(["Build"]);

/**
 * A server interceptor for the TCP listener of `buildplane serve`: `Build`
 * of the builder service answers `PermissionDenied` naming
 * `[security] admin_over_tcp` unless it is on, and a `Build` stream carrying
 * more than `maxUploadBytes` of context is cut with `ResourceExhausted`,
 * and one whose header names an `ecr` registry is refused with
 * `InvalidArgument` (the main install resolves ECR to a token first). The
 * header's reference passes `checkNodePush` (`[builder] allowed_registries`)
 * and becomes the image's only name on this node.
 * Health, `GetStatus` and `HasImage` stay open so pools can probe the node;
 * `CancelBuild` is left to the scope table (node or admin).
 * In-process calls (all-in-one) do not pass through this listener, and a
 * caller whose credential carries the `internal` scope (`[services] token`:
 * the resolver of a split deployment) is one of this deployment's own
 * services: its builds need no `admin_over_tcp`, may stay on the engine
 * without a registry, and keep only the upload limit.
 */
export function createBuilderNodeGuard(options: {
  readonly adminOverTcp: boolean;
  readonly maxUploadBytes: number;
  /** Host of this process's own `[registry]` when its type is `ecr` (a split deployment's builder); none on a builder node. */
  readonly ownEcrHost?: string | undefined;
  /** `[builder] allowed_registries` (lower-case `host[:port]`); empty allows any host. */
  readonly allowedRegistries?: readonly string[];
}): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName !== BuilderService.typeName || !guarded.has(req.method.name)) return next(req);
    if (req.contextValues.get(callerScopesKey).has("internal")) {
      if (req.method.name !== "Build" || !req.stream) return next(req);
      return next({ ...req, message: limitBuildStream(req.message as AsyncIterable<BuildRequest>, options.maxUploadBytes) } as typeof req);
    }
    if (!options.adminOverTcp) throw new DelegatedBuildsDisabledError();
    if (req.method.name !== "Build" || !req.stream) return next(req);
    return next({ ...req, message: guardBuildStream(req.message as AsyncIterable<BuildRequest>, options.maxUploadBytes, options.ownEcrHost, options.allowedRegistries ?? []) } as typeof req);
  };
}

/**
 * Passes a Build stream through, refusing an `ecr` destination other than
 * `ownEcrHost`, a push `checkNodePush` refuses, and context past `maxBytes`.
 * The header goes on with the checked reference as the image's local name.
 */
async function* guardBuildStream(
  messages: AsyncIterable<BuildRequest>,
  maxBytes: number,
  ownEcrHost: string | undefined,
  allowedRegistries: readonly string[],
): AsyncGenerator<BuildRequest> {
  let total = 0;
  for await (const m of messages) {
    if (m.message.case === "header") {
      const header = m.message.value;
      const registry = header.registry;
      if (registry && registry.type.toLowerCase() === "ecr" && (ownEcrHost === undefined || registryHost(registry.url) !== ownEcrHost)) {
        throw new EcrTargetRefusedError(registry.url);
      }
      const reference = header.image?.reference || header.image?.name || "";
      checkNodePush(reference, registry?.url ?? "", allowedRegistries);
      if (header.image) {
        yield { ...m, message: { case: "header", value: { ...header, image: { ...header.image, name: reference, reference } } } };
        continue;
      }
    } else if (m.message.case === "chunk") {
      total += m.message.value.length;
      if (total > maxBytes) throw new UploadTooLargeError(maxBytes);
    }
    yield m;
  }
}

/** Passes a split peer's Build stream through, cutting it when its context passes `maxBytes`. */
async function* limitBuildStream(messages: AsyncIterable<BuildRequest>, maxBytes: number): AsyncGenerator<BuildRequest> {
  let total = 0;
  for await (const m of messages) {
    if (m.message.case === "chunk") {
      total += m.message.value.length;
      if (total > maxBytes) throw new UploadTooLargeError(maxBytes);
    }
    yield m;
  }
}
