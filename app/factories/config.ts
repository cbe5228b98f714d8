import type { Interceptor } from "@connectrpc/connect";
import { DomainError } from "../../libs/errors/domain-error.js";
import { ConfigService } from "../../libs/gen/buildplane/v1/config_pb.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { createConfigService } from "../../services/config/service.js";
import type { ServiceContext } from "../service-registry.js";

/** Registry credentials asked for over the network while nobody can authenticate. */
export class CredentialsNeedAuthError extends DomainError {
  constructor() {
    super(
      "permissionDenied",
      "GetRegistryCredentials over the network needs callers to authenticate: set [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)",
    );
  }
}

/**
 * The config service. `GetRegistryCredentials` hands out secrets, so over
 * the network it answers only when a token is configured (the auth
 * interceptor then checks every caller); in-process callers are trusted.
 */
export function configFactory(ctx: ServiceContext): MountedService {
  const guard: Interceptor = (next) => async (req) => {
    const token = ctx.config.current().system.builderAuthToken;
    if (req.method.name === "GetRegistryCredentials" && (token === undefined || token.isEmpty)) throw new CredentialsNeedAuthError();
    return next(req);
  };
  return {
    ...mountService(ConfigService, createConfigService({ current: () => ctx.config.current(), subscribe: (l) => ctx.config.subscribe(l) })),
    networkInterceptors: [scopedTo(ConfigService.typeName, guard)],
  };
}

function scopedTo(typeName: string, interceptor: Interceptor): Interceptor {
  return (next) => {
    const guarded = interceptor(next);
    return (req) => (req.service.typeName === typeName ? guarded(req) : next(req));
  };
}
