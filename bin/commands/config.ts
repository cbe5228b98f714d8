import type { Command } from "commander";

/** Where the config commands write and what environment they read; the process by default. */
export interface ConfigCommandIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

const processIo: ConfigCommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
};

/**
 * Registers `buildplane config validate` and `buildplane config show`. The
 * configuration library loads only when one of them runs (config-run.ts).
 */
export function registerConfigCommands(program: Command, io: ConfigCommandIo = processIo): void {
  const config = program.command("config").description("Check and show the configuration.").addHelpText("after", `
Examples:
  $ buildplane config validate /etc/buildplane/buildplane.toml
  $ BUILDPLANE_BUILDER_MODE=command buildplane config show --json
`);

  config
    .command("validate")
    .description("Check a configuration file (with BUILDPLANE_* environment overrides); exit 2 when it is not valid.")
    .argument("<file>", "TOML configuration file")
    .action(async (file: string) => (await import("./config-run.js")).validateConfigFile(file, io));

  config
    .command("show")
    .description("Print the effective configuration, secrets shown as ***.")
    .option("--config <file>", "TOML configuration file (default: $BUILDPLANE_CONFIG, else <data_dir>/buildplane.toml)")
    .option("--json", "print JSON instead of TOML")
    .action(async (opts: { config?: string; json?: boolean }) => (await import("./config-run.js")).showConfig(opts, io));
}
