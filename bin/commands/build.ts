import { constants } from "node:os";
import { Option, type Command } from "commander";
import type { ResolverConnection } from "../../app/embedded.js";
import type { BuildEventJson } from "./build-events.js";
import type { ProgressMode } from "./build-progress.js";
import type { FolderUpload } from "./build-upload.js";
import { exitCodes } from "./exit.js";
import type { ServerCredentialOptions } from "./server-credential.js";
import { serverOrigin, withServerOptions } from "./server-option.js";

interface BuildOptions extends ServerCredentialOptions {
  ref?: string;
  dir?: string;
  file?: string;
  arg: string[];
  secretArg: string[];
  target?: string;
  platform?: string;
  app?: string;
  config?: string;
  server?: string;
  json?: boolean;
  progress: ProgressMode;
  quiet?: boolean;
  metadataFile?: string;
  force?: boolean;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Registers `buildplane build <source>`: the main job. It resolves the
 * image for the source and builds it only when missing — in this process on
 * the embedded default (SQLite under the data dir, the local engine), or
 * through a server with `--server URL`, which gets a git URL as is and a
 * local folder's context uploaded (it never reads a path of the client's).
 * Exit 0 when ready, 1 when failed, 2 on a usage error; ^C (SIGINT) and
 * SIGTERM cancel the build and exit 130 and 143, as shells expect.
 */
export function registerBuildCommand(program: Command): void {
  const command = program
    .command("build")
    .description("Make sure the image for a source exists, building it only when missing; print its reference.")
    .argument("<source>", "git URL (https://, ssh://, git://, git@host:path, file://) or local folder")
    .option("--ref <ref>", "branch, tag or commit (default: the remote HEAD)")
    .option("--dir <folder>", "folder inside the repository holding the build context")
    .option("--file <containerfile>", "containerfile inside the folder (default: Containerfile, then Dockerfile)")
    .option("--arg <NAME=VALUE>", "build arg (repeatable)", collect, [])
    .option("--secret-arg <NAME>", "secret build arg whose value is read from the environment variable NAME (repeatable)", collect, [])
    .option("--target <stage>", "multi-stage target")
    .option("--platform <platform>", "target platform, for example linux/amd64")
    .option("--app <id>", "app id, used in the image name")
    .option("--force", "build even when the image exists")
    .option("--config <file>", "TOML configuration file")
    .option("--json", "print one JSON object per event on stdout")
    .addOption(new Option("--progress <mode>", "how to show progress on stderr: auto (tty on a terminal, else plain), tty, plain or quiet").choices(["auto", "tty", "plain", "quiet"]).default("auto").conflicts("json"))
    .addOption(new Option("-q, --quiet", "print only the image reference (and a failure), as --progress quiet").conflicts(["json", "progress"]))
    .option("--metadata-file <file>", "write the ready event (image, digest, cached, build id) to this file as JSON")
    .option("--dry-run", "kaniko mode: print the Kubernetes objects a build would create (JSON lines, secret data redacted) and create nothing");
  withServerOptions(command, "use a buildplane server instead of running in this process")
    .addHelpText("after", `
Examples:
  $ buildplane build https://github.com/example/app.git --ref v1.2.0 --dir web
  $ image=$(buildplane build . -q)
  $ buildplane build git@github.com:example/app.git --arg VERSION=1.2 --secret-arg NPM_TOKEN
  $ buildplane build . --server https://buildplane.example.com:25222 --metadata-file meta.json
  $ BUILDPLANE_SERVER=http://127.0.0.1:25222 BUILDPLANE_TOKEN=… buildplane build . --json
`)
    .action(async (source: string, opts: BuildOptions, cmd: Command) => {
      // The failed line is already printed; the entry point keeps this code.
      process.exitCode = await runBuildCommand(source, opts, serverOrigin(cmd));
    });
}

async function runBuildCommand(source: string, opts: BuildOptions, origin: string): Promise<number> {
  // What a build needs loads only when one runs, so `--help` and `--version` stay quick.
  const [{ Code, ConnectError }, { codeName }, { buildEventToJson }, { chooseReporter }, { buildSpecFromCli }, { loadCliConfig }, { nameServerInFailure, serverToken }, { checkServerUrl }, { checkMetadataFile, writeMetadataFile }] =
    await Promise.all([
      import("@connectrpc/connect"),
      import("../../libs/rpc/code-names.js"),
      import("./build-events.js"),
      import("./build-progress.js"),
      import("./build-spec.js"),
      import("./load-cli-config.js"),
      import("./server-credential.js"),
      import("./server-url.js"),
      import("./build-metadata-file.js"),
    ]);
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
  const tracing = await (await import("../../app/cli-tracing.js")).startCliTracing(process.env);
  try {
    const { openEmbedded, openRemoteResolver } = await import("../../app/embedded.js");
    const { isUploadedFolder, prepareFolderUpload } = await import("./build-upload.js");
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
