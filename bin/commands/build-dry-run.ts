import { ConnectError } from "@connectrpc/connect";
import { builderModes } from "../../app/factories/builder.js";
import { composeServices } from "../../app/compose-services.js";
import { staticConfigSource } from "../../libs/config/config-source.js";
import type { ResolvedConfig } from "../../libs/config/config-types.js";
import { buildHeader } from "../../libs/build/build-header.js";
import { isDomainError } from "../../libs/errors/domain-error.js";
import type { BuildSpec } from "../../libs/gen/buildplane/v1/common_pb.js";
import { silentLogger } from "../../libs/rpc/rpc-logger.js";
import { CliExit, exitCodes } from "./exit.js";

/** Where the dry run writes: the objects on `stdout`, notes on `stderr`. */
export interface DryRunIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** The build id the planned objects carry: a real build gets its id from metadata. */
export const dryRunBuildId = "dry-run";

/**
 * `buildplane build … --dry-run`: prints the Kubernetes objects a kaniko
 * build of `spec` would create — Secrets, then the Job — one JSON object a
 * line with secret data as `***`, and creates nothing. The image is named
 * by the resolver and the containerfile found by the source service, run in
 * this process (config, source and resolver only: no metadata database, no
 * builder, so no cluster call); the registry destination comes from the
 * config service, as for a real build. Only builder.mode kaniko has
 * Kubernetes objects to show: any other mode is a usage error (exit 2).
 */
export async function runBuildDryRun(spec: BuildSpec, config: ResolvedConfig, opts: { server?: string | undefined }, io: DryRunIo, signal?: AbortSignal): Promise<number> {
  const mode = config.builder.effectiveMode.kind;
  const dryRun = builderModes[mode].dryRun;
  if (!dryRun) {
    throw new CliExit(exitCodes.usage, `--dry-run shows the Kubernetes objects of builder.mode kaniko; the effective mode is ${mode}`);
  }
  if (opts.server !== undefined) {
    throw new CliExit(exitCodes.usage, "--dry-run plans with this machine's configuration and cannot be combined with --server");
  }
  // The metadata service holds the install key that secret build args are hashed with.
  const composed = composeServices({ config: staticConfigSource(config), services: ["config", "metadata", "source", "resolver"], log: silentLogger });
  try {
    const { clients } = composed;
    const resolved = await clients.resolver.resolveImage({ spec }, signal ? { signal } : {});
    const described = await clients.source.describe({ source: spec.source, commit: resolved.commit, containerfile: spec.containerfile }, signal ? { signal } : {});
    const { registry } = await clients.config.getRegistryCredentials({}, signal ? { signal } : {});
    const header = buildHeader({
      buildId: dryRunBuildId,
      spec,
      image: resolved.image,
      commit: resolved.commit,
      containerfile: described.containerfile,
      registry,
      timeoutSecs: config.builder.buildTimeoutSecs,
    });
    for (const line of await dryRun(config, header)) io.stdout.write(`${line}\n`);
    const reference = resolved.image?.reference ?? "";
    if (resolved.exists) io.stderr.write(`buildplane: ${reference} already exists (${resolved.digest}): a build runs only with --force\n`);
    return exitCodes.ok;
  } catch (err) {
    if (err instanceof CliExit || isDomainError(err)) throw err;
    throw new CliExit(exitCodes.failure, ConnectError.from(err).rawMessage);
  } finally {
    await composed.close();
  }
}
