import type { Client } from "@connectrpc/connect";
import type { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import type { MetadataPort } from "./ports.js";
import { callFromWire, logEntryFromWire, storedBuildFromWire, streamFromWire } from "./wire-in.js";
import { logLineToWire, newBuildToWire, recordFieldsToWire } from "./wire-out.js";

/** The metadata port over the metadata service's generated client; its RPC errors become `CallError`s. */
export function createMetadataPort(metadata: Client<typeof MetadataService>): MetadataPort {
  return {
    async acquire(req) {
      const res = await callFromWire(metadata.acquireLease({ key: req.key, holder: req.holder, ttlMs: req.ttlMs, replaceHolder: req.replaceHolder ?? "" }));
      return { acquired: res.acquired, holder: res.lease?.holder ?? "", token: res.lease?.token ?? 0n };
    },
    async renew(req) {
      await callFromWire(metadata.renewLease(req));
    },
    async release(req) {
      await callFromWire(metadata.releaseLease(req));
    },
    async create(build, fencingToken) {
      const res = await callFromWire(metadata.createBuild({ build: newBuildToWire(build), fencingToken }));
      return res.build?.id ?? "";
    },
    async update(id, fields, fencingToken) {
      await callFromWire(metadata.updateBuild({ ...recordFieldsToWire(fields), id, fencingToken }));
    },
    async appendLogs(id, lines, fencingToken) {
      await callFromWire(metadata.appendLogs({ buildId: id, lines: lines.map(logLineToWire), fencingToken }));
    },
    async latest(imageKey, signal) {
      const { builds } = await callFromWire(metadata.listBuilds({ imageKey, pageSize: 1 }, { signal }));
      const build = builds[0];
      return build === undefined ? undefined : storedBuildFromWire(build);
    },
    async get(id, signal) {
      const { build } = await callFromWire(metadata.getBuild({ id }, { signal }));
      return build === undefined ? undefined : storedBuildFromWire(build);
    },
    async *followLogs(id, signal) {
      for await (const res of streamFromWire(metadata.streamLogs({ buildId: id, fromSeq: 0n, follow: true }, { signal }))) yield res.lines.map(logEntryFromWire);
    },
  };
}
