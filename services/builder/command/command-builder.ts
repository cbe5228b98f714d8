import type { Readable } from "node:stream";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import { Secret } from "../../../libs/secret/secret.js";
import type { BuildJob, BuildOutcome, BuildProgress, ImageBuilder } from "../image-builder.js";
import { appendInstruction, canInlineLabels, labelInstruction, labelOnlyContext } from "./label-instruction.js";

/** The few engine calls the command mode makes (see `libs/engine`). */
export interface CommandEngine {
  build(
    options: {
      readonly context: Readable;
      readonly tag: string;
      readonly dockerfile: string;
      readonly buildArgs: Readonly<Record<string, string>>;
      readonly target?: string;
      readonly platform?: string;
      readonly labels: Readonly<Record<string, string>>;
    },
    onLine: (stream: "stdout" | "stderr" | "system", text: string) => void,
    signal: AbortSignal,
  ): Promise<{ readonly imageId: string }>;
  /** The image as a `docker save` tarball. */
  exportImage(reference: string, signal: AbortSignal): Promise<Readable>;
  /** Engine name and version. */
  info(signal: AbortSignal): Promise<{ readonly name: string; readonly version: string }>;
  /** Whether the image is in the engine, and its id. */
  hasImage(reference: string, signal: AbortSignal): Promise<{ readonly exists: boolean; readonly id: string }>;
}

/** Pushes a `docker save` tarball to `reference` and returns the manifest digest. */
export type PushArchive = (archive: Readable, reference: string, target: RegistryTarget, signal: AbortSignal) => Promise<string>;

/**
 * Creates the `command` mode: builds on this machine's Docker or Podman
 * through the Engine API, keeps the local image under its generated name,
 * and pushes it with buildplane's registry client when a registry is set, so
 * every registry option in the config applies whatever the engine trusts.
 * Secret build args are refused by the lifecycle before anything reaches the
 * engine (`secretArgs: false`): the engine would store their values in the
 * image history.
 */
export function createCommandBuilder(deps: { readonly engine: CommandEngine; readonly push: PushArchive; readonly engineName: string }): ImageBuilder {
  return {
    mode: "command",
    nodes: () => [],
    async build(job: BuildJob, onProgress: (p: BuildProgress) => void, signal: AbortSignal): Promise<BuildOutcome> {
      const buildArgs: Record<string, string> = {};
      for (const arg of job.args) {
        buildArgs[arg.name] = arg.value instanceof Secret ? arg.value.unwrap() : arg.value;
      }
      const onLine = (stream: "stdout" | "stderr" | "system", text: string): void => onProgress({ type: "log", stream, text });
      // One LABEL instruction instead of one engine step per label (see label-instruction.ts).
      const inline = canInlineLabels(job.labels, job.target)
        ? appendInstruction(job.context, job.containerfile, labelInstruction(job.labels))
        : undefined;
      let { imageId } = await deps.engine.build(
        {
          context: inline?.stream ?? job.context,
          tag: job.name,
          dockerfile: job.containerfile,
          buildArgs,
          ...(job.target ? { target: job.target } : {}),
          ...(job.platform ? { platform: job.platform } : {}),
          labels: inline ? {} : job.labels,
        },
        onLine,
        signal,
      );
      if (inline && !(await inline.applied)) {
        onLine("system", "adding the image labels in a separate step: the containerfile's last line continues");
        ({ imageId } = await deps.engine.build(
          { context: labelOnlyContext(job.name), tag: job.name, dockerfile: "Containerfile", buildArgs: {}, labels: job.labels },
          onLine,
          signal,
        ));
      }
      if (!job.registry) return { reference: job.name, digest: imageId };
      onProgress({ type: "log", stream: "system", text: `pushing ${job.reference}` });
      const archive = await deps.engine.exportImage(job.name, signal);
      const digest = await deps.push(archive, job.reference, job.registry, signal);
      onProgress({ type: "pushed", reference: job.reference, digest });
      return { reference: job.reference, digest };
    },
    async status(signal) {
      try {
        const info = await deps.engine.info(signal);
        return { engine: info.name, version: info.version, healthy: true, nodes: [] };
      } catch {
        return { engine: deps.engineName, version: "", healthy: false, nodes: [] };
      }
    },
    async hasImage(reference, signal) {
      const found = await deps.engine.hasImage(reference, signal);
      return { exists: found.exists, digest: found.id };
    },
    async close() {},
  };
}
