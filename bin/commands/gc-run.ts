import type { Client } from "@connectrpc/connect";
import { staticConfigSource } from "../../libs/config/config-source.js";
import type { CollectGarbageResponse, LifecycleService } from "../../libs/gen/buildplane/v1/lifecycle_pb.js";
import { silentLogger } from "../../libs/rpc/rpc-logger.js";
import type { HealthRegistry } from "../../libs/rpc/health-registry.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { CliExit, exitCodes } from "./exit.js";
import { composeServices } from "../../app/compose-services.js";
import type { GcCommandIo, GcOptions } from "./gc.js";
import { connectLifecycle, lifecycleFailure } from "./lifecycle-connection.js";
import { loadCliConfig } from "./load-cli-config.js";

/** `buildplane gc`: prints what was deleted (or would be), what stays beyond --keep and why; exit 1 when a delete failed. */
export async function collectGarbage(opts: GcOptions, io: GcCommandIo): Promise<void> {
  const res = await withLifecycle(opts, (client) =>
    client.collectGarbage({
      appId: opts.app ?? "",
      ...(opts.keep !== undefined ? { keep: opts.keep } : {}),
      ...(opts.olderThan !== undefined ? { olderThanSecs: BigInt(opts.olderThan) } : {}),
      dryRun: opts.dryRun === true,
    }),
  );
  const failed = res.images.filter((i) => i.error !== "");
  if (opts.json) {
    io.out(`${JSON.stringify(gcJson(res), null, 2)}\n`);
  } else {
    io.out(report(res));
  }
  if (failed.length > 0) process.exitCode = 1;
}

/** `buildplane builds pin|unpin <id>`. */
export async function pinBuild(id: string, pinned: boolean, opts: GcOptions, io: GcCommandIo): Promise<void> {
  const res = await withLifecycle(opts, (client) => client.pinBuild({ id, pinned }));
  io.out(`build ${res.build?.id ?? id} ${pinned ? "pinned: garbage collection keeps its image" : "unpinned"}\n`);
}

function gcJson(res: CollectGarbageResponse): Record<string, unknown> {
  return {
    dryRun: res.dryRun,
    images: res.images.map((i) => ({ app: i.appId, image: i.image, digest: i.digest, buildIds: i.buildIds, engineDeleted: i.engineDeleted, registryDeleted: i.registryDeleted, error: i.error })),
    held: res.held.map((h) => ({ app: h.appId, image: h.image, reason: h.reason })),
  };
}

function report(res: CollectGarbageResponse): string {
  const lines: string[] = [];
  for (const i of res.images) {
    if (res.dryRun) lines.push(`would delete ${i.image} (${i.appId})`);
    else if (i.error !== "") lines.push(`not deleted ${i.image}: ${i.error}`);
    else lines.push(`deleted ${i.image} (${[i.engineDeleted ? "engine" : "", i.registryDeleted ? "registry" : ""].filter((s) => s !== "").join(", ") || "already gone"})`);
  }
  for (const h of res.held) lines.push(`kept ${h.image} (${h.reason})`);
  const deleted = res.images.filter((i) => i.error === "").length;
  lines.push(res.dryRun ? `${res.images.length} image(s) would be deleted, ${res.held.length} kept beyond --keep` : `${deleted} image(s) deleted, ${res.images.length - deleted} failed, ${res.held.length} kept beyond --keep`);
  return `${lines.join("\n")}\n`;
}

/** Runs `fn` against a server's LifecycleService, or one composed in this process over the local metadata. */
async function withLifecycle<T>(opts: GcOptions, fn: (client: Client<typeof LifecycleService>) => Promise<T>): Promise<T> {
  if (opts.server) {
    const conn = connectLifecycle(opts.server, opts);
    try {
      return await fn(conn.client);
    } catch (err) {
      throw lifecycleFailure(err, opts.server, opts.origin);
    } finally {
      conn.close();
    }
  }
  const config = loadCliConfig(opts.config);
  const composed = composeServices({ config: staticConfigSource(config), services: ["config", "metadata", "lifecycle"], log: silentLogger });
  try {
    await metadataServing(composed.health, config.metadata.statementTimeoutSecs * 1000);
    return await fn(composed.clients.lifecycle);
  } catch (err) {
    throw lifecycleFailure(err, undefined);
  } finally {
    await composed.close();
  }
}

/** Waits until the metadata database of this process is open and migrated (it opens in the background). */
function metadataServing(health: HealthRegistry, timeoutMs: number): Promise<void> {
  const name = MetadataService.typeName;
  if (health.get(name) === "serving") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new CliExit(exitCodes.failure, `the metadata database did not open within ${timeoutMs / 1000} s: check [metadata] db_connection`));
    }, timeoutMs);
    const unsubscribe = health.subscribe((service, status) => {
      if (service !== name || status !== "serving") return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
    if (health.get(name) === "serving") {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    }
  });
}
