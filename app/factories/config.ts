import type { Interceptor } from "@connectrpc/connect";
import { DomainError } from "../../libs/errors/domain-error.js";
import { ConfigService } from "../../libs/gen/buildplane/v1/config_pb.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { createConfigService } from "../../services/config/service.js";
import { serverCredentials } from "../server-credentials.js";
import type { ServiceContext } from "../service-registry.js";

/** Registry credentials asked for over the network while nobody can authenticate. */
export class CredentialsNeedAuthError extends DomainError {
  constructor() {
    super(
      "permissionDenied",
      "GetRegistryCredentials over the network needs a caller with the internal scope: set [services] token (or BUILDPLANE_SERVICES_TOKEN) here and on the services that call it",
    );
  }
}

/**
 * The config service. `GetRegistryCredentials` hands out secrets, so over
 * the network it answers only when credentials are configured (the port then
 * lets only `internal` callers reach it, see `libs/rpc/rpc-scopes.ts`) —
 * never on an open port, even one opened with `allow_unauthenticated`;
 * in-process callers are trusted.
 */
export function configFactory(ctx: ServiceContext): MountedService {
  const guard: Interceptor = (next) => async (req) => {
    if (req.method.name === "GetRegistryCredentials" && !serverCredentials(ctx.config.current()).configured) throw new CredentialsNeedAuthError();
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
