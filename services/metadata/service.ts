import type { ServiceImpl } from "@connectrpc/connect";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { listAppPage, removeApp, requireApp, saveApp } from "./apps.js";
import { createBuild, listBuildPage, requireBuild, updateBuild, type BuildUpdate } from "./builds.js";
import {
  appFromPb, appToPb, buildStatusFromPb, buildStatusToPb, buildToPb, leaseToPb, logLineFromPb, logLineToPb, newBuildFromPb, safeNumber,
} from "./convert.js";
import { heldLeases, markBuildsCollected, pinBuild } from "./collection.js";
import { withDatabaseErrors } from "./database-errors.js";
import { imageKeyHmacKey } from "./install-key.js";
import { acquire, release, renew } from "./leases.js";
import { appendLogs, streamLogs } from "./logs.js";
import type { MetadataDeps } from "./metadata-deps.js";

/**
 * The MetadataService handlers: parse, call one domain function, map back.
 * Domain errors reach clients through the RPC runtime's error interceptor;
 * a database that is away answers `unavailable`.
 */
export function createMetadataService(deps: MetadataDeps): ServiceImpl<typeof MetadataService> {
  return withDatabaseErrors<typeof MetadataService>(deps, {
    async putApp(req) {
      return { app: appToPb(await saveApp(deps, appFromPb(req.app))) };
    },
    async getApp(req) {
      return { app: appToPb(await requireApp(deps, req.id)) };
    },
    async listApps(req) {
      const page = await listAppPage(deps, { pageSize: req.pageSize, pageToken: req.pageToken });
      return { apps: page.apps.map(appToPb), nextPageToken: page.nextPageToken };
    },
    async deleteApp(req) {
      await removeApp(deps, req.id);
      return {};
    },
    async createBuild(req) {
      const build = await createBuild(deps, newBuildFromPb(req.build), safeNumber(req.fencingToken, "fencing_token"));
      return { build: buildToPb(build) };
    },
    async updateBuild(req) {
      const update: BuildUpdate = {
        ...(req.status !== undefined ? { status: buildStatusFromPb(req.status, "status") } : {}),
        ...(req.image !== undefined ? { image: req.image } : {}),
        ...(req.digest !== undefined ? { digest: req.digest } : {}),
        ...(req.commit !== undefined ? { commit: req.commit } : {}),
        ...(req.treeHash !== undefined ? { treeHash: req.treeHash } : {}),
        ...(req.builderNode !== undefined ? { builderNode: req.builderNode } : {}),
        ...(req.errorCode !== undefined ? { errorCode: req.errorCode } : {}),
        ...(req.errorMessage !== undefined ? { errorMessage: req.errorMessage } : {}),
        ...(req.contextBytes !== undefined ? { contextBytes: safeNumber(req.contextBytes, "context_bytes") } : {}),
      };
      const build = await updateBuild(deps, req.id, update, safeNumber(req.fencingToken, "fencing_token"));
      return { build: buildToPb(build) };
    },
    async getBuild(req) {
      return { build: buildToPb(await requireBuild(deps, req.id)) };
    },
    async listBuilds(req) {
      const page = await listBuildPage(deps, {
        appId: req.appId,
        status: buildStatusFromPb(req.status, "status"),
        imageKey: req.imageKey,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        uncollectedOnly: req.uncollectedOnly,
      });
      return { builds: page.builds.map(buildToPb), nextPageToken: page.nextPageToken };
    },
    async appendLogs(req) {
      const res = await appendLogs(deps, req.buildId, req.lines.map(logLineFromPb), safeNumber(req.fencingToken, "fencing_token"));
      return { lastSeq: BigInt(res.lastSeq), dropped: BigInt(res.dropped) };
    },
    async *streamLogs(req, ctx) {
      const chunks = streamLogs(deps, {
        buildId: req.buildId,
        fromSeq: safeNumber(req.fromSeq, "from_seq"),
        follow: req.follow,
        signal: ctx.signal,
      });
      for await (const chunk of chunks) {
        yield {
          lines: chunk.lines.map(logLineToPb),
          ...(chunk.finalStatus ? { finalStatus: buildStatusToPb(chunk.finalStatus) } : {}),
        };
      }
    },
    async acquireLease(req) {
      const res = await acquire(deps, req.key, req.holder, req.ttlMs, req.replaceHolder);
      return { acquired: res.acquired, lease: leaseToPb(res.lease) };
    },
    async renewLease(req) {
      const lease = await renew(deps, { key: req.key, holder: req.holder, token: safeNumber(req.token, "token") }, req.ttlMs);
      return { lease: leaseToPb(lease) };
    },
    async releaseLease(req) {
      return { released: await release(deps, { key: req.key, holder: req.holder, token: safeNumber(req.token, "token") }) };
    },
    async getInstallKey() {
      return { key: await imageKeyHmacKey(deps) };
    },
    async markCollected(req) {
      return { marked: await markBuildsCollected(deps, req.ids) };
    },
    async *watchCollected(_req, ctx) {
      if (!deps.collectionWatchers) return;
      for await (const images of deps.collectionWatchers.watch(ctx.signal)) yield { images: [...images] };
    },
    async setBuildPinned(req) {
      return { build: buildToPb(await pinBuild(deps, req.id, req.pinned)) };
    },
    async listHeldLeases(req) {
      const leases = await heldLeases(deps, req.prefix);
      return { leases: leases.map((l) => leaseToPb(l)).filter((l) => l !== undefined) };
    },
  });
}
