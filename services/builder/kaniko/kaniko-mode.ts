import { NoLocalEngineError, type BuilderModeModule } from "../builder-mode.js";
import type { ImageBuilder } from "../image-builder.js";
import { kanikoOptionsFromConfig } from "./kaniko-config.js";

/**
 * The `kaniko` mode: one Kubernetes Job per build. The Kubernetes client
 * loads only when this mode is created; builds wait for it. Secret build
 * args reach Kaniko through a Secret (`secretKeyRef` env), never the image.
 */
export const kanikoMode: BuilderModeModule = {
  kind: "kaniko",
  capabilities: { secretArgs: true, labels: true, needsRegistry: true, verifiesPush: true, localEngine: false, platforms: true },
  create(deps) {
    const loading: Promise<ImageBuilder> = import("./kaniko-runtime.js").then((m) => m.createKanikoRuntime(deps));
    loading.catch(() => undefined);
    return {
      mode: "kaniko",
      nodes: () => [],
      build: async (job, onProgress, signal) => (await loading).build(job, onProgress, signal),
      status: async (signal) => loading.then((b) => b.status(signal), () => ({ engine: "", version: "", healthy: false, nodes: [] })),
      hasImage: async (reference) => {
        throw new NoLocalEngineError("kaniko", reference);
      },
      close: async () => (await loading.catch(() => undefined))?.close(),
    };
  },
  async dryRun(config, header) {
    const { kanikoDryRunLines } = await import("./kaniko-dry-run.js");
    return kanikoDryRunLines(header, kanikoOptionsFromConfig(config), config.builder.buildTimeoutSecs);
  },
};
