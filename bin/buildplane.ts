import { Command, CommanderError } from "commander";
import { registerAppsCommands } from "./commands/apps.js";
import { registerBuildCommand } from "./commands/build.js";
import { registerBuildsCommands } from "./commands/builds.js";
import { registerConfigCommands } from "./commands/config.js";
import { registerGcCommands } from "./commands/gc.js";
import { registerHealthCommand } from "./commands/health.js";
import { registerRegistryCommands } from "./commands/registry.js";
import { registerServeCommand } from "./commands/serve.js";
import { exitCodes, reportFailure } from "./commands/exit.js";
import { version } from "./commands/version.js";

/**
 * The `buildplane` command line. Exit codes: 0 success, 1 runtime failure,
 * 2 usage or configuration error.
 */
export function createProgram(): Command {
  const program = new Command("buildplane")
    .description("Turn an app's git source into a ready-to-run container image, building only when it does not exist yet.")
    .version(version, "-V, --version")
    .addHelpText("after", `
Examples:
  $ buildplane build https://github.com/example/app.git --ref main
  $ buildplane build . --server http://127.0.0.1:25222
  $ buildplane serve --config /etc/buildplane/buildplane.toml
  $ buildplane builds list --status failed

The server of every --server command can also be given as $BUILDPLANE_SERVER,
its token as $BUILDPLANE_TOKEN. Exit codes: 0 success, 1 failure, 2 usage or
configuration error, 130/143 interrupted by SIGINT/SIGTERM.
`);
  registerBuildCommand(program);
  registerBuildsCommands(program);
  registerServeCommand(program);
  registerConfigCommands(program);
  registerHealthCommand(program);
  registerRegistryCommands(program);
  registerAppsCommands(program);
  registerGcCommands(program);
  forEachCommand(program, (cmd) => cmd.exitOverride().showHelpAfterError(usageHint(cmd)));
  return program;
}

/**
 * What follows a usage error: the command's one-line usage and where the
 * full help is, instead of the whole help.
 */
function usageHint(cmd: Command): string {
  const path: string[] = [];
  for (let at: Command | null = cmd; at; at = at.parent) path.unshift(at.name());
  return `usage: ${path.join(" ")} ${cmd.usage()}\nsee '${path.join(" ")} --help'`;
}

function forEachCommand(cmd: Command, fn: (cmd: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, fn);
}

async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    // A command may have set its own exit code (a failed build ends with 1).
    return typeof process.exitCode === "number" ? process.exitCode : exitCodes.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and --version end with exitCode 0; everything else is a usage error.
      return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    return reportFailure(err);
  }
}

/**
 * A reader that went away (`buildplane --help | head -1`) ends the process
 * quietly, as git and other command-line tools do, instead of an unhandled
 * EPIPE and its stack trace; other stream errors stay fatal.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(typeof process.exitCode === "number" ? process.exitCode : exitCodes.ok);
  });
}

exitQuietlyOnClosedPipe(process.stdout);
exitQuietlyOnClosedPipe(process.stderr);
process.exitCode = await main(process.argv.slice(2));
