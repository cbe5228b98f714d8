import { InvalidArgumentError, type Command } from "commander";
import { buildStatuses, type BuildStatus as StatusName } from "../../libs/db/records.js";
import type { ServerCredentialOptions } from "./server-credential.js";
import { serverOrigin, withServerOptions } from "./server-option.js";

/** Where the builds commands write; the process by default. */
export interface BuildsCommandIo {
  out(text: string): void;
}

const processIo: BuildsCommandIo = { out: (text) => process.stdout.write(text) };

/** The options every builds command takes. */
export interface CommonOptions extends ServerCredentialOptions {
  config?: string;
  server?: string;
  /** Where the server URL came from, for messages: `--server` or `$BUILDPLANE_SERVER`. */
  origin?: string;
}

/**
 * Registers `buildplane builds list|show|logs`. They read the configured
 * metadata database in this process, or a server with `--server URL`; both
 * go through the same MetadataService handlers, so output and errors match.
 * The RPC and database libraries load only when one runs (builds-run.ts).
 */
export function registerBuildsCommands(program: Command, io: BuildsCommandIo = processIo): void {
  const builds = program.command("builds").description("List builds, show one, replay or follow its log.");
  const common = (cmd: Command): Command =>
    withServerOptions(
      cmd.option("--config <file>", "TOML configuration file (default: $BUILDPLANE_CONFIG, else <data_dir>/buildplane.toml)"),
      "read from a buildplane server (e.g. http://127.0.0.1:25222) instead of the local database",
    );
  builds.addHelpText("after", `
Examples:
  $ buildplane builds list --status failed --limit 10
  $ buildplane builds show 01JF3Z8K2M7Q --json
  $ buildplane builds logs 01JF3Z8K2M7Q --follow --server http://127.0.0.1:25222
`);

  common(builds.command("list"))
    .description("List builds, newest first.")
    .option("--json", "print JSON records")
    .option("--app <id>", "only builds of this app")
    .option("--status <status>", `only builds in this status: ${buildStatuses.join(", ")}`, parseStatus)
    .option("--limit <n>", "at most this many builds", parseLimit, 50)
    .action(async (opts: CommonOptions & { json?: boolean; app?: string; status?: StatusName; limit: number }, cmd: Command) =>
      (await import("./builds-run.js")).listBuilds({ ...opts, origin: serverOrigin(cmd) }, io),
    );

  common(builds.command("show"))
    .description("Show one build.")
    .argument("<id>", "build id")
    .option("--json", "print a JSON record")
    .action(async (id: string, opts: CommonOptions & { json?: boolean }, cmd: Command) =>
      (await import("./builds-run.js")).showBuild(id, { ...opts, origin: serverOrigin(cmd) }, io),
    );

  common(builds.command("logs"))
    .description("Print a build's log; with --follow, keep printing until the build ends.")
    .argument("<id>", "build id")
    .option("--follow", "wait for new lines until the build is final")
    .option("--from <seq>", "first sequence number", parseLimit, 1)
    .action(async (id: string, opts: CommonOptions & { follow?: boolean; from: number }, cmd: Command) =>
      (await import("./builds-run.js")).printBuildLog(id, { ...opts, origin: serverOrigin(cmd) }, io),
    );
}

function parseStatus(text: string): StatusName {
  const status = buildStatuses.find((s) => s === text.toLowerCase());
  if (!status) throw new InvalidArgumentError(`"${text}" is not a build status: expected ${buildStatuses.join(", ")}`);
  return status;
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${text}" is not valid: expected a whole number from 1`);
  return n;
}
