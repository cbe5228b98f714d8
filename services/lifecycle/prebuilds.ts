import type { EnsureAppImage, PrebuildOutcome, RegisteredApp } from "./registered-app.js";

/** Builds started on a push or a poll, at most one per app and ref or commit at a time. */
export interface Prebuilds {
  /** Starts EnsureImage for `app` at `ref` (a commit from a webhook, the app's ref from a poll); `started` is false when the same one still runs. */
  start(app: RegisteredApp, ref: string, requester: string): { started: boolean; done: Promise<PrebuildOutcome | undefined> };
  /** Builds running now. */
  readonly running: number;
  /** Resolves once every running build ended. */
  idle(): Promise<void>;
}

export interface PrebuildsDeps {
  readonly ensure: EnsureAppImage;
  /** Aborts every build when the server stops. */
  readonly signal: AbortSignal;
  log(message: string, fields: Record<string, unknown>): void;
}

/**
 * Starts builds in the background and answers at once. EnsureImage itself
 * shares one build among identical requests (in this process and across
 * replicas through the build lease); this keeps a webhook sent twice from
 * opening a second stream.
 */
export function createPrebuilds(deps: PrebuildsDeps): Prebuilds {
  const inFlight = new Map<string, Promise<PrebuildOutcome | undefined>>();
  return {
    start(app, ref, requester) {
      const key = `${app.id}\0${ref}`;
      const existing = inFlight.get(key);
      if (existing) return { started: false, done: existing };
      const done = deps.ensure(app, ref, requester, deps.signal).then(
        (outcome) => {
          deps.log(outcome.ok ? "prebuild ready" : "prebuild failed", { app: app.id, ref, requester, ...outcome });
          return outcome;
        },
        (err: unknown) => {
          deps.log("prebuild failed", { app: app.id, ref, requester, error: err instanceof Error ? err.message : String(err) });
          return undefined;
        },
      ).finally(() => inFlight.delete(key));
      inFlight.set(key, done);
      return { started: true, done };
    },
    get running() {
      return inFlight.size;
    },
    async idle() {
      await Promise.all([...inFlight.values()]);
    },
  };
}
