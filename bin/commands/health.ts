import { InvalidArgumentError, type Command } from "commander";
import type { ServerCredentialOptions } from "./server-credential.js";
import { withTokenFileOption } from "./token-file-option.js";

/** The environment variable naming the server when `--server` is not given. */
export const serverEnvName = "BUILDPLANE_SERVER";

/** The server `buildplane health` asks when neither `--server` nor `$BUILDPLANE_SERVER` names one. */
export const defaultHealthServer = "http://127.0.0.1:25222";

/** Options of `buildplane health`. */
export interface HealthOptions extends ServerCredentialOptions {
  server?: string;
  service?: string;
  timeout: number;
}

/** Where `buildplane health` writes and what environment it reads; the process by default. */
export interface HealthCommandIo {
  out(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

const processIo: HealthCommandIo = { out: (text) => process.stdout.write(text), env: process.env };

const defaultTimeoutSecs = 5;

/**
 * Registers `buildplane health`: one `grpc.health.v1.Health/Check` call to a
 * server, the status printed, exit 0 only when it is SERVING (1 otherwise, 2
 * on a usage error). It is the image's HEALTHCHECK, run every few seconds,
 * so it loads only the RPC client and the health contract (health-run.ts),
 * and only when it runs.
 */
export function registerHealthCommand(program: Command, io: HealthCommandIo = processIo): void {
  withTokenFileOption(
    program
      .command("health")
      .description("Ask a buildplane server whether it serves (grpc.health.v1 Check); exit 0 only when SERVING.")
      .option("--server <url>", `server to ask (default: $${serverEnvName}, else ${defaultHealthServer})`)
      .option("--service <name>", "one service: config, metadata, source, resolver, builder, lifecycle or a full gRPC service name (default: the whole server)")
      .option("--timeout <seconds>", "give up after this long", parseTimeout, defaultTimeoutSecs),
  ).action(async (opts: HealthOptions) => (await import("./health-run.js")).checkHealth(opts, io));
}

function parseTimeout(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError(`"${text}" is not valid: expected a number of seconds above 0, at most 3600`);
  return n;
}
