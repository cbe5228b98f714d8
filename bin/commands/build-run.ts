import { constants } from "node:os";
import { Code, ConnectError } from "@connectrpc/connect";
import { startCliTracing } from "../../app/cli-tracing.js";
import { openEmbedded, openRemoteResolver, type ResolverConnection } from "../../app/embedded.js";
import { codeName } from "../../libs/rpc/code-names.js";
import type { BuildOptions } from "./build.js";
import { buildEventToJson, type BuildEventJson } from "./build-events.js";
import { checkMetadataFile, writeMetadataFile } from "./build-metadata-file.js";
import { chooseReporter } from "./build-progress.js";
import { buildSpecFromCli } from "./build-spec.js";
import { isUploadedFolder, prepareFolderUpload, type FolderUpload } from "./build-upload.js";
import { exitCodes } from "./exit.js";
import { loadCliConfig } from "./load-cli-config.js";
import { nameServerInFailure, serverToken } from "./server-credential.js";
import { checkServerUrl } from "./server-url.js";

/**
 * Runs `buildplane build`: everything it needs is imported here, loaded
 * together when a build runs (one module for the bundler to split on, so a
 * build reads few bundle files), never by `--help`.
 */
export async function runBuildCommand(source: string, opts: BuildOptions, origin: string): Promise<number> {
  if (opts.server !== undefined) checkServerUrl(opts.server, origin);
  const metadataFile = opts.metadataFile === undefined ? undefined : checkMetadataFile(opts.metadataFile);
  const spec = buildSpecFromCli(source, opts, process.env, process.cwd());
  const config = loadCliConfig(opts.config);
  const token = opts.server ? serverToken(opts, process.env) : undefined;
  if (opts.dryRun) return (await import("./build-dry-run.js")).runBuildDryRun(spec, config, opts, { stdout: process.stdout, stderr: process.stderr });
  const reporter = await chooseReporter(opts.json ?? false, opts.quiet ? "quiet" : opts.progress, { stdout: process.stdout, stderr: process.stderr });
  const stop = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second ^C while the cancellation is under way ends the process at once.
    if (interrupted) process.exit(128 + constants.signals[signal]);
    interrupted = signal;
    stop.abort();
  };
  // `on`, not `once`: a listener still there when the signal is handled keeps
  // signal-exit (the file locks' exit hook) from re-raising it and killing the process.
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let connection: ResolverConnection | undefined;
  let upload: FolderUpload | undefined;
  let last: BuildEventJson | undefined;
  const tracing = await startCliTracing(process.env);
  try {
    connection = opts.server ? openRemoteResolver(opts.server, token, undefined, tracing.on) : await openEmbedded(config, undefined, tracing.on, { onSlowClose: (message) => process.stderr.write(`buildplane: ${message}\n`) });
    if (opts.server && (await isUploadedFolder(spec))) upload = await prepareFolderUpload(spec, opts.force ?? false, stop.signal);
    const responses = upload
      ? connection.resolver.ensureImageFromContext(upload.requests, { signal: stop.signal })
      : connection.resolver.ensureImage({ spec, force: opts.force ?? false }, { signal: stop.signal });
    for await (const res of responses) {
      const e = res.event && buildEventToJson(res.event);
      if (!e) continue;
      last = e;
      reporter.event(e);
    }
  } catch (err) {
    const error = opts.server ? nameServerInFailure(ConnectError.from(err), opts.server, origin) : ConnectError.from(err);
    if (last?.type !== "failed") {
      const buildId = last?.buildId ?? "";
      // A stream the server reset without this process asking (the server
      // process died or the connection dropped) is not a cancellation by the user.
      const lost = !stop.signal.aborted && error.code === Code.Canceled;
      const code = stop.signal.aborted ? Code.Canceled : lost ? Code.Unavailable : error.code;
      const message = lost
        ? `the connection to the server was lost${buildId ? ` during build ${buildId}` : ""} (${error.rawMessage}): the server may have stopped; run the command again to build or attach`
        : error.rawMessage;
      last = { type: "failed", code: codeName(code), message, buildId };
      reporter.event(last);
    }
  } finally {
    upload?.close();
    reporter.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await connection?.close();
    await tracing.close();
  }
  if (last?.type === "ready" && metadataFile) writeMetadataFile(metadataFile, last);
  if (interrupted) return 128 + constants.signals[interrupted];
  return last?.type === "ready" ? exitCodes.ok : exitCodes.failure;
}
