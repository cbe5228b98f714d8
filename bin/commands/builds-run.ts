import { constants } from "node:os";
import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { MetadataService, type Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import type { BuildStatus as StatusName } from "../../libs/db/records.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/rpc-logger.js";
import { buildStatusFromPb, buildStatusToPb } from "../../services/metadata/convert.js";
import type { BuildsCommandIo, CommonOptions } from "./builds.js";
import { CliExit, exitCodes } from "./exit.js";
import { loadCliConfig } from "./load-cli-config.js";
import { nameServerInFailure, serverToken, tokenInterceptors, type ServerCredentialOptions } from "./server-credential.js";
import { checkServerUrl } from "./server-url.js";

/** A MetadataService client and how to let go of it. */
interface MetadataConnection {
  readonly client: Client<typeof MetadataService>;
  close(): Promise<void>;
}

/** `buildplane builds list`: newest first, as a table or JSON records. */
export function listBuilds(opts: CommonOptions & { json?: boolean; app?: string; status?: StatusName; limit: number }, io: BuildsCommandIo): Promise<void> {
  return withMetadata(opts, async ({ client }) => {
    const found: Build[] = [];
    let pageToken = "";
    do {
      const page = await client.listBuilds({
        appId: opts.app ?? "",
        status: opts.status ? buildStatusToPb(opts.status) : BuildStatus.UNSPECIFIED,
        pageSize: Math.min(opts.limit - found.length, 500),
        pageToken,
      });
      found.push(...page.builds);
      pageToken = page.nextPageToken;
    } while (pageToken !== "" && found.length < opts.limit);
    if (opts.json) return io.out(`${JSON.stringify(found.map(buildJson), null, 2)}\n`);
    io.out(table(found));
  });
}

/** `buildplane builds show <id>`: one build, as `key: value` lines or a JSON record. */
export function showBuild(id: string, opts: CommonOptions & { json?: boolean }, io: BuildsCommandIo): Promise<void> {
  return withMetadata(opts, async ({ client }) => {
    const { build } = await client.getBuild({ id });
    if (!build) throw new CliExit(exitCodes.failure, `build ${id} not found`);
    const record = buildJson(build);
    if (opts.json) return io.out(`${JSON.stringify(record, null, 2)}\n`);
    for (const [k, v] of Object.entries(record)) if (v !== "" && v !== null && v !== false) io.out(`${`${k}:`.padEnd(14)}${String(v)}\n`);
  });
}

/** `buildplane builds logs <id>`: the log, and with `follow` the lines still to come. */
export function printBuildLog(id: string, opts: CommonOptions & { follow?: boolean; from: number }, io: BuildsCommandIo): Promise<void> {
  return withMetadata(opts, async ({ client }) => {
    const stop = new AbortController();
    // ^C (SIGINT) or SIGTERM stops following and ends with 130 or 143, as shells expect.
    const onSignal = (signal: NodeJS.Signals): void => {
      process.exitCode = 128 + constants.signals[signal];
      stop.abort();
    };
    // `on`, not `once`: a listener still there when the signal is handled keeps
    // signal-exit (the file locks' exit hook) from re-raising it and killing the process.
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      const stream = client.streamLogs({ buildId: id, fromSeq: BigInt(opts.from), follow: opts.follow ?? false }, { signal: stop.signal });
      for await (const msg of stream) {
        for (const line of msg.lines) io.out(`${line.text}\n`);
        const final = buildStatusFromPb(msg.finalStatus, "final_status");
        if (final && opts.follow) io.out(`-- build ${id} ${final}\n`);
      }
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  });
}

/** The fields scripts rely on: `id`, `image`, `status`, `createdAt`, and the rest of the record. */
function buildJson(b: Build): Record<string, string | number | boolean | null> {
  const iso = (t: Timestamp | undefined): string | null => (t ? new Date(timestampMs(t)).toISOString() : null);
  return {
    id: b.id,
    image: b.image,
    status: buildStatusFromPb(b.status, "status") ?? "unspecified",
    createdAt: iso(b.createTime),
    startedAt: iso(b.startTime),
    finishedAt: iso(b.finishTime),
    appId: b.appId,
    imageKey: b.imageKey,
    digest: b.digest,
    commit: b.commit,
    mode: b.mode,
    builderNode: b.builderNode,
    requester: b.requester,
    errorCode: b.errorCode,
    errorMessage: b.errorMessage,
    pinned: b.pinned,
    collectedAt: iso(b.collectTime),
  };
}

function table(builds: readonly Build[]): string {
  const rows = [["ID", "STATUS", "CREATED", "IMAGE"], ...builds.map((b) => {
    const j = buildJson(b);
    return [b.id, String(j.status), String(j.createdAt ?? ""), b.image];
  })];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join("  ").trimEnd() + "\n").join("");
}

/** Runs `fn` with a client of the server or of the local database, turning RPC errors into CLI exits. */
export async function withMetadata(opts: CommonOptions, fn: (conn: MetadataConnection) => Promise<void>): Promise<void> {
  const conn = opts.server ? connectServer(opts.server, opts.origin ?? "--server", opts) : await openLocal(opts.config);
  try {
    await fn(conn);
  } catch (err) {
    if (err instanceof ConnectError) {
      const named = opts.server ? nameServerInFailure(err, opts.server, opts.origin) : err;
      throw new CliExit(named.code === Code.InvalidArgument ? exitCodes.usage : exitCodes.failure, named.rawMessage);
    }
    throw err;
  } finally {
    await conn.close();
  }
}

function connectServer(url: string, origin: string, opts: ServerCredentialOptions): MetadataConnection {
  const parsed = checkServerUrl(url, origin);
  const interceptors = tokenInterceptors(serverToken(opts, process.env));
  const sessionManager = new Http2SessionManager(parsed.origin);
  const transport: Transport = createGrpcTransport({ baseUrl: url, sessionManager, interceptors });
  return { client: createClient(MetadataService, transport), close: async () => sessionManager.abort() };
}

async function openLocal(configFile: string | undefined): Promise<MetadataConnection> {
  const config = loadCliConfig(configFile);
  // The database driver and the service load only when a command runs.
  const [{ openDatabase }, { createMetadataService }] = await Promise.all([
    import("../../libs/db/open-database.js"),
    import("../../services/metadata/service.js"),
  ]);
  const database = await openDatabase(config.metadata.dbConnection.unwrap(), { poolSize: 2, maxAttempts: 1 });
  const deps = { database: () => database, maxLogLinesPerBuild: config.system.maxLogLinesPerBuild };
  const transport = createRouterTransport(({ service }) => service(MetadataService, createMetadataService(deps)), {
    router: { interceptors: [createErrorInterceptor(silentLogger)] },
  });
  return { client: createClient(MetadataService, transport), close: () => database.close() };
}
