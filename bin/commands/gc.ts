import { InvalidArgumentError, type Command } from "commander";
import type { ServerCredentialOptions } from "./server-credential.js";
import { serverOrigin, withServerOptions } from "./server-option.js";

/** Where the gc and pin commands write; the process by default. */
export interface GcCommandIo {
  out(text: string): void;
}

const processIo: GcCommandIo = { out: (text) => process.stdout.write(text) };

/** Options of `buildplane gc`. */
export interface GcOptions extends ServerCredentialOptions {
  config?: string;
  server?: string;
  origin?: string;
  app?: string;
  keep?: number;
  olderThan?: number;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * Registers `buildplane gc` and `buildplane builds pin|unpin`: garbage
 * collection of the images buildplane built, in this process (the local
 * metadata, engine and registry) or on a server with `--server` (scope
 * admin). Libraries load only when one runs (gc-run.ts).
 */
export function registerGcCommands(program: Command, io: GcCommandIo = processIo): void {
  withServerOptions(
    program
      .command("gc")
      .description("Delete the images buildplane built that retention does not keep, from the local engine and the registry.")
      .option("--config <file>", "TOML configuration file (default: $BUILDPLANE_CONFIG, else <data_dir>/buildplane.toml)")
      .option("--app <id>", "only this app's images")
      .option("--keep <n>", "newest succeeded images kept per app (default: [gc] keep)", parseCount)
      .option("--older-than <duration>", "only delete images older than this: 30m, 12h, 7d or seconds (default: [gc] older_than_secs)", parseDuration)
      .option("--dry-run", "list what would be deleted; delete nothing")
      .option("--json", "print a JSON object"),
    "collect on a buildplane server (e.g. http://127.0.0.1:25222) instead of in this process",
  )
    .addHelpText("after", `
Kept besides the newest --keep per app: pinned builds' images (buildplane builds pin ID),
images whose build runs or whose build lease is held, and images younger than --older-than.
Images without buildplane's labels are never deleted; build records stay, marked collected.

Examples:
  $ buildplane gc --dry-run
  $ buildplane gc --app web --keep 3 --older-than 7d --json
`)
    .action(async (opts: GcOptions, cmd: Command) => (await import("./gc-run.js")).collectGarbage({ ...opts, origin: serverOrigin(cmd) }, io));

  const builds = program.commands.find((c) => c.name() === "builds") ?? program.command("builds");
  for (const [name, pinned] of [["pin", true], ["unpin", false]] as const) {
    withServerOptions(
      builds
        .command(name)
        .description(pinned ? "Keep a build's image from garbage collection whatever its age." : "Let garbage collection delete a build's image again.")
        .argument("<id>", "build id")
        .option("--config <file>", "TOML configuration file (default: $BUILDPLANE_CONFIG, else <data_dir>/buildplane.toml)"),
      "use a buildplane server (scope admin) instead of the local database",
    ).action(async (id: string, opts: GcOptions, cmd: Command) => (await import("./gc-run.js")).pinBuild(id, pinned, { ...opts, origin: serverOrigin(cmd) }, io));
  }
}

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${text}" is not valid: expected a whole number from 1`);
  return n;
}

/** Seconds of `30m`, `12h`, `7d`, `45s` or a bare number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhdw]?)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`"${text}" is not valid: expected a duration such as 30m, 12h, 7d or a number of seconds`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as "" | "s" | "m" | "h" | "d" | "w"];
  return Number(m[1]) * unit;
}
