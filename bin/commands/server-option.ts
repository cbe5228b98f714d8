import { Option, type Command } from "commander";
import { withTokenFileOption } from "./token-file-option.js";

/** The environment variable naming the server of every `--server` command. */
export const serverEnvName = "BUILDPLANE_SERVER";

/**
 * Adds `--server <url>` (default: `$BUILDPLANE_SERVER`) and `--token-file`
 * to a command that can talk to a buildplane server, so every such command
 * takes its server and token the same way, from flags or the environment.
 */
export function withServerOptions(cmd: Command, description: string): Command {
  return withTokenFileOption(cmd.addOption(new Option("--server <url>", description).env(serverEnvName)));
}

/** How the server was named, for messages: `--server` or `$BUILDPLANE_SERVER`. */
export function serverOrigin(cmd: Command): string {
  return cmd.getOptionValueSource("server") === "env" ? `$${serverEnvName}` : "--server";
}
