import { engineEnvironment } from "../../../libs/config/engine-env.js";
import { createEngine, type Engine } from "../../../libs/engine/engine.js";
import { pushImageArchive } from "../../../libs/registry/push-image-archive.js";
import { timedPhase } from "../../../libs/metrics/timed-phase.js";
import type { BuilderModeModule } from "../builder-mode.js";
import { createCommandBuilder, type CommandEngine } from "./command-builder.js";

/**
 * The `command` mode: builds with this machine's Docker or Podman (the
 * engine is found on first use, so the service starts without one) and
 * pushes with buildplane's own registry client.
 */
export const commandMode: BuilderModeModule = {
  kind: "command",
  capabilities: { secretArgs: false, labels: true, needsRegistry: false, verifiesPush: false, localEngine: true, platforms: true },
  create(deps) {
    const command = deps.config.system.containerCommand;
    let engine: Promise<Engine> | undefined;
    const getEngine = (): Promise<Engine> => {
      engine ??= createEngine({ command, env: engineEnvironment() });
      engine.catch(() => (engine = undefined));
      return engine;
    };
    const lazy: CommandEngine = {
      build: (options, onLine, signal) => timedPhase(deps.metrics, "build", async () => (await getEngine()).build(options, onLine, signal)),
      exportImage: async (reference, signal) => (await getEngine()).exportImage(reference, signal),
      info: async (signal) => (await getEngine()).info(signal),
      hasImage: async (reference, signal) => (await getEngine()).hasImage(reference, signal),
    };
    return createCommandBuilder({
      engine: lazy,
      engineName: command,
      push: (archive, reference, target, signal) =>
        timedPhase(deps.metrics, "push", () => deps.registries.use(target, async (client) => (await pushImageArchive(client, archive, reference, { signal })).digest)),
    });
  },
};
