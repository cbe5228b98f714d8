import { InvalidArgumentError, type Command } from "commander";
import type { ConfigSource } from "../../libs/config/config-source.js";
import { CliExit, exitCodes } from "./exit.js";

interface ServeOptions {
  config?: string;
  services?: string;
  host?: string;
  port?: number;
  shutdownGrace?: number;
}

/**
 * Registers `buildplane serve`: runs the chosen services on one port until
 * SIGTERM or SIGINT, then shuts down gracefully and exits 0. Prints one line,
 * `buildplane listening on <url> (services: …)`, once it accepts calls.
 */
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("Run buildplane's services on one port that speaks gRPC, gRPC-Web and Connect.")
    .option("--config <file>", "TOML configuration file (default: $BUILDPLANE_CONFIG, else <data_dir>/buildplane.toml)")
    .option("--services <list>", "comma-separated services to run: config, metadata, source, resolver, builder, lifecycle (default: all)")
    .option("--host <host>", "address to listen on (default: [http] host)")
    .option("--port <port>", "port to listen on, 0 for any free port (default: [http] port)", parsePort)
    .option("--shutdown-grace <seconds>", "how long running builds may finish after SIGTERM before they are canceled (default: [builder] shutdown_grace_secs, else the build timeout)", parseSeconds)
    .addHelpText("after", `
Examples:
  $ buildplane serve
  $ buildplane serve --config /etc/buildplane/buildplane.toml --host 0.0.0.0
  $ buildplane serve --services source,resolver --port 25223
`)
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}

async function serve(opts: ServeOptions): Promise<void> {
  // The server loads only when it runs, so `--help` and `--version` stay quick.
  const [{ parseServiceList }, { openServerTelemetry }] = await Promise.all([import("../../app/service-selection.js"), import("../../app/server-telemetry.js")]);
  const services = parseServiceList(opts.services);
  const watching = new AbortController();
  const source = await openCliConfigSource(opts.config, watching.signal);
  const telemetry = await openServerTelemetry(source.current(), process.env, "buildplane");
  const log = telemetry.log;
  let running;
  try {
    const { startServer } = await import("../../app/start-server.js");
    running = await startServer({ config: source, services, host: opts.host, port: opts.port, log, tracing: telemetry.tracing });
  } catch (err) {
    watching.abort();
    await telemetry.close();
    throw err;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      // A second signal while shutting down ends the process at once.
      process.once("SIGTERM", () => process.exit(exitCodes.failure));
      process.once("SIGINT", () => process.exit(exitCodes.failure));
      resolve(sig);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    process.stdout.write(`buildplane listening on ${running.url} (services: ${running.mounted.join(", ")})\n`);
  });
  const { builder } = source.current();
  const graceSecs = opts.shutdownGrace ?? (builder.shutdownGraceSecs || builder.buildTimeoutSecs);
  log.info("shutting down", { signal, builds: running.buildsRunning, graceSecs });
  await running.close(graceSecs * 1000);
  watching.abort();
  log.info("stopped");
  await telemetry.close();
  // Nothing should be left running; if a stray handle remains, do not hang.
  setTimeout(() => process.exit(process.exitCode ?? exitCodes.ok), 2000).unref();
}

/** Opens the watched configuration; an invalid one ends the CLI with exit code 2. */
async function openCliConfigSource(file: string | undefined, signal: AbortSignal): Promise<ConfigSource> {
  const [{ ConfigError }, { openConfigSource }] = await Promise.all([import("../../libs/config/config-error.js"), import("../../libs/config/config-source.js")]);
  try {
    return openConfigSource(file === undefined ? { signal } : { file, signal });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(exitCodes.usage, err.message);
    throw err;
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new InvalidArgumentError(`"${text}" is not a port: expected 0 to 65535`);
  return port;
}

function parseSeconds(text: string): number {
  const secs = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text)) throw new InvalidArgumentError(`"${text}" is not a number of seconds: expected a number such as 10`);
  return secs;
}
