import type { Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { engineEnvironment } from "../../libs/config/engine-env.js";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { registryTargetFromWire } from "../../libs/registry/registry-target.js";
import type { ServiceClients } from "../../libs/rpc/service-clients.js";
import type { CollectDeps, GcEngine, GcRegistry } from "../../services/lifecycle/gc/collect-images.js";
import type { GcBuild } from "../../services/lifecycle/gc/plan-collection.js";
import type { CollectionRecords } from "../../services/lifecycle/gc/run-collection.js";
import type { ServiceContext } from "../service-registry.js";

/** Garbage collection's reads and writes, through the metadata service. */
export function collectionRecords(clients: ServiceClients): CollectionRecords {
  const page = async (req: { appId: string; status: BuildStatus; uncollectedOnly: boolean }, signal: AbortSignal): Promise<Build[]> => {
    const out: Build[] = [];
    let pageToken = "";
    do {
      const res = await clients.metadata.listBuilds({ ...req, pageSize: 500, pageToken }, { signal });
      out.push(...res.builds);
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    return out;
  };
  return {
    async succeeded(appId, signal) {
      const builds = await page({ appId, status: BuildStatus.SUCCEEDED, uncollectedOnly: true }, signal);
      return builds.map((b): GcBuild => ({
        id: b.id,
        appId: b.appId,
        image: b.image,
        imageKey: b.imageKey,
        digest: b.digest,
        finishedAt: b.finishTime ? timestampMs(b.finishTime) : b.createTime ? timestampMs(b.createTime) : 0,
        pinned: b.pinned,
      }));
    },
    async runningKeys(signal) {
      const keys = new Set<string>();
      for (const status of [BuildStatus.QUEUED, BuildStatus.RUNNING, BuildStatus.PUSHING]) {
        for (const b of await page({ appId: "", status, uncollectedOnly: false }, signal)) keys.add(b.imageKey);
      }
      return keys;
    },
    async leasedKeys(signal) {
      const { leases } = await clients.metadata.listHeldLeases({ prefix: "build:" }, { signal });
      return new Set(leases.map((l) => l.key.slice("build:".length)));
    },
    async markCollected(buildIds, signal) {
      for (let i = 0; i < buildIds.length; i += 1000) await clients.metadata.markCollected({ ids: buildIds.slice(i, i + 1000) }, { signal });
    },
  };
}

/**
 * The engine (command mode only: kaniko and builder nodes keep no image
 * here) and the registry (with the credentials the config service hands
 * out) a collection deletes from; made for one run and closed after.
 */
export async function collectionTargets(ctx: ServiceContext, signal: AbortSignal): Promise<CollectDeps & { close(): void }> {
  const config = ctx.config.current();
  const engine = config.builder.effectiveMode.kind === "command" ? engineTarget(createEngine({ command: config.system.containerCommand, env: engineEnvironment() })) : undefined;
  if (config.registry.url === "") return { engine, registry: undefined, close: () => undefined };
  const { registry } = await ctx.clients.config.getRegistryCredentials({}, { signal });
  if (!registry || registry.url === "") return { engine, registry: undefined, close: () => undefined };
  const client = createRegistryClient(registryTargetFromWire(registry));
  const target: GcRegistry = {
    host: client.host,
    async find(repository, tag, s) {
      const manifest = await client.getManifest(repository, tag, s);
      if (!manifest) return undefined;
      const parsed = JSON.parse(manifest.body.toString("utf8")) as { config?: { digest?: string } };
      const configDigest = parsed.config?.digest ?? "";
      const blob = configDigest === "" ? undefined : await client.getBlob(repository, configDigest, s);
      const labels = blob ? ((JSON.parse(blob.toString("utf8")) as { config?: { Labels?: Record<string, string> | null } }).config?.Labels ?? {}) : {};
      return { digest: manifest.digest, labels };
    },
    remove: (repository, digest, s) => client.deleteManifest(repository, digest, s),
  };
  return { engine, registry: target, close: () => client.close() };
}

function engineTarget(engine: Promise<Engine>): GcEngine {
  // A run with nothing to delete never asks the engine: its absence is not an error then.
  engine.catch(() => undefined);
  return {
    async find(reference, signal) {
      const found = await (await engine).hasImage(reference, signal);
      return found.exists ? { labels: found.labels ?? {} } : undefined;
    },
    async remove(reference, signal) {
      return (await engine).removeImage(reference, {}, signal);
    },
  };
}
