import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { ConfigService, WatchConfigResponseSchema, type WatchConfigResponse } from "../../libs/gen/buildplane/v1/config_pb.js";
import type { ConfigUpdate } from "../../libs/config/config-source.js";
import type { ResolvedConfig } from "../../libs/config/config-types.js";
import { toProtoConfig, toProtoDiagnostics } from "../../libs/config/to-proto-config.js";
import { validateConfigText } from "../../libs/config/validate-config.js";
import { registryTargetToWire } from "../../libs/registry/registry-target.js";
import { createAsyncQueue } from "../../libs/stream/async-queue.js";
import { resolveRegistryCredentials } from "./registry-credentials.js";

/** What the config service needs: the live configuration (a `ConfigSource` fits). */
export interface ConfigServiceDeps {
  current(): ResolvedConfig;
  /** Change notifications; without it `WatchConfig` sends the current config and stays open. */
  subscribe?(listener: (update: ConfigUpdate) => void): () => void;
  /** Environment merged into `ValidateConfig` texts; none by default, so only the text is judged. */
  readonly validateEnv?: NodeJS.ProcessEnv;
}

/**
 * Creates the config service: the effective configuration with secrets
 * redacted, validation of a TOML text, a stream of changes, and the
 * registry credentials in clear for the callers that push.
 */
export function createConfigService(deps: ConfigServiceDeps): ServiceImpl<typeof ConfigService> {
  return {
    getConfig() {
      return { config: toProtoConfig(deps.current()) };
    },

    validateConfig(req) {
      const fileName = req.fileName || "config.toml";
      const result = validateConfigText(req.toml, fileName, deps.validateEnv ?? {});
      return { valid: result.config !== undefined, diagnostics: toProtoDiagnostics(result.diagnostics) };
    },

    async *watchConfig(_req, ctx) {
      const queue = createAsyncQueue<WatchConfigResponse>();
      const unsubscribe = deps.subscribe?.((u) =>
        queue.push(create(WatchConfigResponseSchema, { config: toProtoConfig(u.config), rejected: toProtoDiagnostics(u.rejected) })),
      );
      const onAbort = (): void => queue.close();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      try {
        yield { config: toProtoConfig(deps.current()), rejected: [] };
        if (ctx.signal.aborted) return;
        yield* queue;
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
        unsubscribe?.();
      }
    },

    async getRegistryCredentials(_req, ctx) {
      const creds = await resolveRegistryCredentials(deps.current().registry, ctx.signal);
      if (!creds) return {};
      return {
        registry: registryTargetToWire(creds),
        expiresUnix: 0n,
      };
    },
  };
}
