import { Code, ConnectError } from "@connectrpc/connect";
import { BuilderService } from "../gen/buildplane/v1/builder_pb.js";
import { ConfigService } from "../gen/buildplane/v1/config_pb.js";
import { DomainError } from "../errors/domain-error.js";
import { mountService, type MountedService } from "./service-mount.js";

/** A domain error as services throw them, for the runtime's tests. */
export class FixtureNotFoundError extends DomainError {
  constructor(readonly what: string) {
    super("notFound", `fixture "${what}" does not exist: expected an existing fixture`);
  }
}

/**
 * A small ConfigService for the runtime's own tests: GetConfig answers
 * `source_file: "fixture.toml"`, ValidateConfig fails with a domain error,
 * GetRegistryCredentials with a plain error (a bug), and WatchConfig sends
 * one config, then waits for `release` (or its signal) and optionally fails.
 */
export function createFixtureConfigService(options: { release?: Promise<void>; unaryDelay?: Promise<void>; unaryStarted?: () => void } = {}): MountedService {
  return mountService(ConfigService, {
    async getConfig() {
      options.unaryStarted?.();
      await options.unaryDelay;
      return { config: { sourceFile: "fixture.toml" } };
    },
    validateConfig(req) {
      throw new FixtureNotFoundError(req.fileName);
    },
    getRegistryCredentials() {
      throw new Error("boom with a detail that must stay on the server");
    },
    async *watchConfig(_req, ctx) {
      yield { config: { sourceFile: "fixture.toml" } };
      await new Promise<void>((resolve) => {
        ctx.signal.addEventListener("abort", () => resolve(), { once: true });
        void options.release?.then(resolve);
      });
      if (!ctx.signal.aborted) throw new FixtureNotFoundError("after-stream");
    },
  });
}

/** A BuilderService whose bidi `Build` echoes each request's build id as a log line. */
export function createFixtureBuilderService(): MountedService {
  return mountService(BuilderService, {
    async *build(requests) {
      for await (const req of requests) {
        if (req.message.case !== "header") throw new ConnectError("expected a header", Code.InvalidArgument);
        yield { event: { buildId: req.message.value.buildId, event: { case: "log", value: { seq: 1n, text: "echo" } } } };
      }
    },
    cancelBuild: () => ({}),
    hasImage: () => ({ exists: false }),
    getStatus: () => ({}),
  });
}
