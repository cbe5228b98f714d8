import type { App } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { LifecycleService } from "../../libs/gen/buildplane/v1/lifecycle_pb.js";
import { createPushPreflight } from "../../libs/registry/push-preflight.js";
import { checkRegistry } from "../../libs/registry/registry-check.js";
import { createRegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import { registryTargetFromWire } from "../../libs/registry/registry-target.js";
import type { ServiceClients } from "../../libs/rpc/service-clients.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { startAppPoller } from "../../services/lifecycle/app-poller.js";
import { createHookRoute } from "../../services/lifecycle/hooks/hook-route.js";
import { createPrebuilds } from "../../services/lifecycle/prebuilds.js";
import type { EnsureAppImage, RegisteredApp } from "../../services/lifecycle/registered-app.js";
import { runCollection } from "../../services/lifecycle/gc/run-collection.js";
import { startScheduledCollection } from "../../services/lifecycle/gc/scheduled-collection.js";
import { createLifecycleService } from "../../services/lifecycle/service.js";
import { collectionRecords, collectionTargets } from "./collection-targets.js";
import type { ServiceContext } from "../service-registry.js";

/** How often the poller looks at the apps' poll intervals. */
const pollTickMs = 5000;

/**
 * The lifecycle service: registry push check, apps built on a push
 * (`POST /hooks/git` and the poller), garbage collection and pins. It
 * reaches the registry with the credentials the config service hands out,
 * and builds through the resolver's EnsureImage like any other caller.
 */
export function lifecycleFactory(ctx: ServiceContext): MountedService {
  const pool = createRegistryClientPool();
  ctx.defer(async () => pool.close());
  const preflight = createPushPreflight({ pool, ttlMs: () => 0 });
  const log = (message: string, fields: Record<string, unknown>): void => ctx.log.info(message, fields);
  const prebuilds = createPrebuilds({ ensure: ensureThrough(ctx.clients), signal: ctx.signal, log });
  const listApps = (signal: AbortSignal): Promise<RegisteredApp[]> => allApps(ctx.clients, signal);
  const collection = {
    records: collectionRecords(ctx.clients),
    targets: (signal: AbortSignal) => collectionTargets(ctx, signal),
    collected: (references: readonly string[]) => ctx.collectedImages.collected(references),
  };
  if (ctx.serving) {
    // Background work belongs to a server, never to a CLI command composing the same services.
    const stopPoller = startAppPoller({ listApps, prebuilds, tickMs: pollTickMs, signal: ctx.signal, log });
    const stopCollector = startScheduledCollection({
      settings: () => ctx.config.current().gc,
      collect: (req, signal) => runCollection(collection, req, signal),
      signal: ctx.signal,
      log,
    });
    ctx.defer(async () => {
      stopPoller();
      stopCollector();
      await prebuilds.idle();
    });
  }
  return {
    ...mountService(
      LifecycleService,
      createLifecycleService({
        async checkRegistry(signal) {
          const { registry } = await ctx.clients.config.getRegistryCredentials({}, { signal });
          const location = { url: registry?.url ?? "", project: registry?.project ?? "" };
          return checkRegistry(location, registry && registry.url !== "" ? registryTargetFromWire(registry) : undefined, preflight, signal);
        },
        collectGarbage(input, signal) {
          const gc = ctx.config.current().gc;
          return runCollection(collection, { appId: input.appId, keep: input.keep ?? gc.keep, olderThanSecs: input.olderThanSecs ?? gc.olderThanSecs, dryRun: input.dryRun }, signal);
        },
        async pinBuild(id, pinned, signal) {
          return (await ctx.clients.metadata.setBuildPinned({ id, pinned }, { signal })).build;
        },
      }),
    ),
    httpRoute: createHookRoute({
      settings: () => ctx.config.current().hooks,
      listApps,
      prebuild: (target, requester) => prebuilds.start(target.app, target.commit, requester),
      log,
    }),
  };
}

/** Every registered app, page by page. */
async function allApps(clients: ServiceClients, signal: AbortSignal): Promise<RegisteredApp[]> {
  const apps: RegisteredApp[] = [];
  let pageToken = "";
  do {
    const page = await clients.metadata.listApps({ pageSize: 500, pageToken }, { signal });
    apps.push(...page.apps.map(toRegisteredApp));
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return apps;
}

function toRegisteredApp(a: App): RegisteredApp {
  return {
    id: a.id,
    repository: a.source?.repository ?? "",
    ref: a.source?.ref ?? "",
    dir: a.source?.dir ?? "",
    containerfile: a.containerfile,
    args: a.args.filter((x) => !x.secret).map((x) => ({ name: x.name, value: x.value })),
    target: a.target,
    pollIntervalSecs: a.pollIntervalSecs,
  };
}

/** EnsureImage through the resolver (in this process or remote), followed to its last event. */
function ensureThrough(clients: ServiceClients): EnsureAppImage {
  return async (app, ref, requester, signal) => {
    const stream = clients.resolver.ensureImage(
      {
        spec: {
          source: { repository: app.repository, ref, dir: app.dir },
          containerfile: app.containerfile,
          args: app.args.map((a) => ({ name: a.name, value: a.value, secret: false })),
          target: app.target,
          appId: app.id,
          requester,
        },
      },
      { signal },
    );
    let buildId = "";
    for await (const { event } of stream) {
      if (!event) continue;
      if (event.buildId) buildId = event.buildId;
      if (event.event.case === "ready") return { ok: true, image: event.event.value.image, buildId };
      if (event.event.case === "failed") return { ok: false, code: event.event.value.code, message: event.event.value.message };
    }
    return { ok: false, code: "unknown", message: "EnsureImage ended without a ready or failed event" };
  };
}
