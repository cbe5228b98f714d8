import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { startMetadataRuntime } from "../../services/metadata/metadata-runtime.js";
import { createMetadataService } from "../../services/metadata/service.js";
import type { ServiceContext } from "../service-registry.js";

/**
 * The metadata service on `[metadata] db_connection`. It mounts at once and
 * reports NOT_SERVING until the database is connected and migrated.
 */
export function metadataFactory(ctx: ServiceContext): MountedService {
  const config = ctx.config.current();
  const runtime = startMetadataRuntime({
    dbConnection: config.metadata.dbConnection.unwrap(),
    poolSize: config.metadata.poolSize,
    statementTimeoutMs: config.metadata.statementTimeoutSecs * 1000,
    maxLogLinesPerBuild: config.system.maxLogLinesPerBuild,
    onHealth: (ok) => ctx.health.set(MetadataService.typeName, ok ? "serving" : "notServing"),
    onRetry: (message, attempt, delayMs) => ctx.log.info("metadata database not reachable, retrying", { message, attempt, delayMs }),
    onError: (err) => ctx.log.error("metadata background error", { error: err instanceof Error ? err.message : String(err) }),
  });
  ctx.defer(() => runtime.close());
  return mountService(MetadataService, createMetadataService(runtime.deps));
}
