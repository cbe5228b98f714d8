import { InvalidArgumentError, type Command } from "commander";
import type { CommonOptions } from "./builds.js";
import { serverOrigin, withServerOptions } from "./server-option.js";

/** Where the apps commands write; the process by default. */
export interface AppsCommandIo {
  out(text: string): void;
}

const processIo: AppsCommandIo = { out: (text) => process.stdout.write(text) };

/** Options of `apps add`. */
export interface AddAppOptions extends CommonOptions {
  repo: string;
  ref?: string;
  dir?: string;
  file?: string;
  arg: string[];
  target?: string;
  name?: string;
  poll?: number;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Registers `buildplane apps add|list|show|remove`: the apps a server builds
 * on a push (webhook or poll), each with its build spec. They write the
 * configured metadata database in this process, or a server with
 * `--server URL` (adding and removing need the admin scope). Libraries load
 * only when one runs (apps-run.ts).
 */
export function registerAppsCommands(program: Command, io: AppsCommandIo = processIo): void {
  const apps = program.command("apps").description("Register apps that are built on a push, list, show or remove them.");
  const common = (cmd: Command): Command =>
    withServerOptions(
      cmd.option("--config <file>", "TOML configuration file (default: $BUILDPLANE_CONFIG, else <data_dir>/buildplane.toml)"),
      "use a buildplane server (e.g. http://127.0.0.1:25222) instead of the local database",
    );
  apps.addHelpText("after", `
Examples:
  $ buildplane apps add web --repo https://github.com/example/app.git --ref main --dir web
  $ buildplane apps add api --repo https://git.example/app.git --ref 'release/*' --arg VERSION=2
  $ buildplane apps add docs --repo https://git.example/docs.git --ref main --poll 300
  $ buildplane apps list --json
`);

  common(apps.command("add"))
    .description("Register an app (or replace the one with this id) with its build spec.")
    .argument("<id>", "app id: letters, digits, '.', '_', ':', '/' or '-'; part of its image names")
    .requiredOption("--repo <url>", "git repository (https://, ssh://, git@host:path, file://)")
    .option("--ref <ref>", "branch, tag, or a pattern such as 'release/*' or 'refs/tags/v*' a push must match (default: the default branch)")
    .option("--dir <dir>", "folder inside the repository holding the build context")
    .option("--file <path>", "Containerfile, relative to --dir (default: Containerfile, then Dockerfile)")
    .option("--arg <NAME=VALUE>", "build arg (repeatable; no secrets: they are never stored)", collect, [])
    .option("--target <stage>", "multi-stage target")
    .option("--name <name>", "display name (default: the id)")
    .option("--poll <secs>", "also check the ref for a new commit every this many seconds (10 to 86400; 0: webhooks only)", parsePoll)
    .option("--json", "print the stored app as JSON")
    .action(async (id: string, opts: AddAppOptions, cmd: Command) => (await import("./apps-run.js")).addApp(id, { ...opts, origin: serverOrigin(cmd) }, io));

  common(apps.command("list"))
    .description("List the registered apps.")
    .option("--json", "print JSON records")
    .action(async (opts: CommonOptions & { json?: boolean }, cmd: Command) => (await import("./apps-run.js")).listApps({ ...opts, origin: serverOrigin(cmd) }, io));

  common(apps.command("show"))
    .description("Show one app and its build spec.")
    .argument("<id>", "app id")
    .option("--json", "print a JSON record")
    .action(async (id: string, opts: CommonOptions & { json?: boolean }, cmd: Command) => (await import("./apps-run.js")).showApp(id, { ...opts, origin: serverOrigin(cmd) }, io));

  common(apps.command("remove"))
    .description("Remove an app; its builds and images stay.")
    .argument("<id>", "app id")
    .action(async (id: string, opts: CommonOptions, cmd: Command) => (await import("./apps-run.js")).removeApp(id, { ...opts, origin: serverOrigin(cmd) }, io));
}

function parsePoll(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${text}" is not valid: expected a whole number of seconds`);
  return n;
}
