import type { Prebuilds } from "./prebuilds.js";
import type { RegisteredApp } from "./registered-app.js";

export interface AppPollerDeps {
  listApps(signal: AbortSignal): Promise<readonly RegisteredApp[]>;
  readonly prebuilds: Prebuilds;
  /** How often the app list is looked at (a poll is due when its interval passed). */
  readonly tickMs: number;
  readonly now?: () => number;
  readonly signal: AbortSignal;
  log(message: string, fields: Record<string, unknown>): void;
}

/**
 * Polls the apps that set `poll_interval_secs`: when an app's interval has
 * passed since its last poll, EnsureImage runs for its ref, which resolves
 * the ref's commit and builds only when that commit's image is missing — a
 * push found without a webhook. Returns a stop function.
 */
export function startAppPoller(deps: AppPollerDeps): () => void {
  const now = deps.now ?? Date.now;
  const lastPoll = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      const apps = await deps.listApps(deps.signal);
      const t = now();
      for (const app of apps) {
        if (app.pollIntervalSecs <= 0) continue;
        const last = lastPoll.get(app.id);
        if (last !== undefined && t - last < app.pollIntervalSecs * 1000) continue;
        lastPoll.set(app.id, t);
        deps.prebuilds.start(app, app.ref, "poll");
      }
      for (const id of lastPoll.keys()) if (!apps.some((a) => a.id === id)) lastPoll.delete(id);
    } catch (err) {
      if (!deps.signal.aborted) deps.log("app poll failed", { error: err instanceof Error ? err.message : String(err) });
    }
    if (!stopped && !deps.signal.aborted) timer = setTimeout(() => void tick(), deps.tickMs);
  };
  timer = setTimeout(() => void tick(), 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
