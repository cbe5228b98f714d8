import type { ServiceImpl } from "@connectrpc/connect";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { lazyServiceImpl } from "../../libs/rpc/lazy-service.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import type { MetadataRuntime } from "../../services/metadata/metadata-runtime.js";
import type { ServiceContext } from "../service-registry.js";

/**
 * The metadata service on `[metadata] db_connection`. It mounts at once and
 * reports NOT_SERVING until the database is connected and migrated. It
 * starts connecting at once, except in a one-shot build: there on the
 * service's first call, so a build whose image exists neither loads the
 * database code nor opens the database. That first call waits for the
 * first connection attempt, so a database that answers is not reported away.
 */
export function metadataFactory(ctx: ServiceContext): MountedService {
  const start = async (): Promise<{ readonly runtime: MetadataRuntime; readonly impl: ServiceImpl<typeof MetadataService> }> => {
    const config = ctx.config.current();
    const [{ startMetadataRuntime }, { createMetadataService }] = await Promise.all([
      import("../../services/metadata/metadata-runtime.js"),
      import("../../services/metadata/service.js"),
    ]);
    let attempted: () => void = () => undefined;
    const firstAttempt = new Promise<void>((resolve) => (attempted = resolve));
    const runtime = startMetadataRuntime({
      dbConnection: config.metadata.dbConnection.unwrap(),
      poolSize: config.metadata.poolSize,
      statementTimeoutMs: config.metadata.statementTimeoutSecs * 1000,
      maxLogLinesPerBuild: config.system.maxLogLinesPerBuild,
      onHealth: (ok) => ctx.health.set(MetadataService.typeName, ok ? "serving" : "notServing"),
      onRetry: (message, attempt, delayMs) => {
        attempted();
        ctx.log.info("metadata database not reachable, retrying", { message, attempt, delayMs });
      },
      onError: (err) => ctx.log.error("metadata background error", { error: err instanceof Error ? err.message : String(err) }),
    });
    if (ctx.oneShot) await Promise.race([runtime.ready.catch(() => undefined), firstAttempt]);
    return { runtime, impl: createMetadataService(runtime.deps) };
  };
  let opened: ReturnType<typeof start> | undefined;
  const open = (): ReturnType<typeof start> => (opened ??= start());
  ctx.health.set(MetadataService.typeName, "notServing");
  // Registered now, so it keeps its place among the clean-ups (a resolver's drain runs before it).
  ctx.defer(async () => {
    await (await opened?.catch(() => undefined))?.runtime.close();
  });
  if (!ctx.oneShot) void open().catch((err: unknown) => ctx.log.error("metadata service did not start", { error: err instanceof Error ? err.message : String(err) }));
  return mountService(MetadataService, lazyServiceImpl(MetadataService, async () => (await open()).impl));
}
