import type { Command } from "commander";

/** The environment variable holding the bearer token of every `--server` command. */
export const tokenEnvName = "BUILDPLANE_TOKEN";

/**
 * Adds `--token-file` to a command that talks to a server. There is no
 * option taking the token itself: a value in argv is visible to every user
 * of the machine (`ps`, `/proc/<pid>/cmdline`) and lands in shell history.
 * It lives apart from the token's use (server-credential.ts) so that
 * registering commands loads no RPC library.
 */
export function withTokenFileOption(cmd: Command): Command {
  return cmd.option("--token-file <file>", `file holding the bearer token sent to --server (default: $${tokenEnvName})`);
}
