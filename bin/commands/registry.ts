import type { Command } from "commander";
import { serverOrigin, withServerOptions } from "./server-option.js";

/** Where the registry commands write; the process by default. */
export interface RegistryCommandIo {
  out(text: string): void;
}

const processIo: RegistryCommandIo = { out: (text) => process.stdout.write(text) };

/**
 * Registers `buildplane registry check`: the push check every build makes
 * first (TLS and CA, credentials, push rights), on this machine's
 * configuration or a server's with `--server`. Exit 0 only when a push would
 * succeed. Its libraries load only when it runs (registry-run.ts).
 */
export function registerRegistryCommands(program: Command, io: RegistryCommandIo = processIo): void {
  const registry = program.command("registry").description("Check the registry images are pushed to.");
  withServerOptions(
    registry
      .command("check")
      .description("Check that the configured registry accepts a push from these credentials; exit 0 only when it would.")
      .option("--config <file>", "TOML configuration file (default: $BUILDPLANE_CONFIG, else <data_dir>/buildplane.toml)")
      .option("--json", "print a JSON object"),
    "check the registry of a buildplane server (e.g. http://127.0.0.1:25222) with its credentials",
  ).action(async (opts: { config?: string; server?: string; json?: boolean; tokenFile?: string }, cmd: Command) =>
    (await import("./registry-run.js")).checkRegistryCommand({ ...opts, origin: serverOrigin(cmd) }, io),
  );
}
