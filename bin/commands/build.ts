import type { Command } from "commander";
import type { ResolverConnection } from "../../app/embedded.js";
import type { BuildEventJson } from "./build-events.js";
import type { BuildReporter } from "./build-progress.js";
import type { FolderUpload } from "./build-upload.js";
import { exitCodes } from "./exit.js";
import type { ServerCredentialOptions } from "./server-credential.js";
import { withTokenFileOption } from "./token-file-option.js";

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
 * Exit 0 when ready, 1 when failed.
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
    .option("--server <url>", "use a buildplane server instead of running in this process")
    .option("--json", "print one JSON object per event")
    .option("--dry-run", "kaniko mode: print the Kubernetes objects a build would create (JSON lines, secret data redacted) and create nothing");
  withTokenFileOption(command).action(async (source: string, opts: BuildOptions) => {
      // The failed line is already printed; the entry point keeps this code.
      process.exitCode = await runBuildCommand(source, opts);
    });
}

async function runBuildCommand(source: string, opts: BuildOptions): Promise<number> {
  // What a build needs loads only when one runs, so `--help` and `--version` stay quick.
  const [{ Code, ConnectError }, { codeName }, { buildEventToJson }, { createJsonReporter, createPlainReporter, createTerminalReporter }, { buildSpecFromCli }, { loadCliConfig }, { nameServerInFailure, serverToken }] =
    await Promise.all([
      import("@connectrpc/connect"),
      import("../../libs/rpc/code-names.js"),
      import("./build-events.js"),
      import("./build-progress.js"),
      import("./build-spec.js"),
      import("./load-cli-config.js"),
      import("./server-credential.js"),
    ]);
  const spec = buildSpecFromCli(source, opts, process.env, process.cwd());
  const config = loadCliConfig(opts.config);
  const token = opts.server ? serverToken(opts, process.env) : undefined;
  if (opts.dryRun) return (await import("./build-dry-run.js")).runBuildDryRun(spec, config, opts, { stdout: process.stdout, stderr: process.stderr });
  const streams = { stdout: process.stdout, stderr: process.stderr };
  const reporter: BuildReporter = opts.json
    ? createJsonReporter(streams)
    : process.stderr.isTTY
      ? createTerminalReporter(streams)
      : createPlainReporter(streams);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
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
    connection = opts.server ? openRemoteResolver(opts.server, token, undefined, tracing.on) : await openEmbedded(config, undefined, tracing.on);
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
    const error = opts.server ? nameServerInFailure(ConnectError.from(err), opts.server) : ConnectError.from(err);
    if (last?.type !== "failed") {
      const code = stop.signal.aborted ? Code.Canceled : error.code;
      last = { type: "failed", code: codeName(code), message: error.rawMessage, buildId: "" };
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
  return last?.type === "ready" ? exitCodes.ok : exitCodes.failure;
}
