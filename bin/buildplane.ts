import { Command, CommanderError } from "commander";
import { registerBuildCommand } from "./commands/build.js";
import { registerBuildsCommands } from "./commands/builds.js";
import { registerConfigCommands } from "./commands/config.js";
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
    .showHelpAfterError()
    .exitOverride();
  registerBuildCommand(program);
  registerBuildsCommands(program);
  registerServeCommand(program);
  registerConfigCommands(program);
  registerRegistryCommands(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
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

process.exitCode = await main(process.argv.slice(2));
