import type { BuilderModeModule } from "../builder-mode.js";
import type { ImageBuilder } from "../image-builder.js";

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
      build: async (job, onProgress, signal) => (await loading).build(job, onProgress, signal),
      status: async (signal) => (await loading).status(signal),
      hasImage: async (reference, signal) => (await loading).hasImage(reference, signal),
      close: async () => (await loading.catch(() => undefined))?.close(),
    };
  },
};
