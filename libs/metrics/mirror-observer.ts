import type { MirrorObserver } from "../git/mirror-cache.js";
import type { BuildplaneMetrics } from "./buildplane-metrics.js";
import { timedPhase } from "./timed-phase.js";

/**
 * Feeds `buildplane_git_mirror_lookups_total{result}` and
 * `buildplane_git_fetch_duration_seconds{result}` from the mirror cache;
 * each fetch is also the build's `fetch` phase (span `build.fetch`).
 */
export function createMirrorObserver(metrics: BuildplaneMetrics): MirrorObserver {
  return {
    lookup(hit) {
      metrics.mirrorLookups.inc({ result: hit ? "hit" : "miss" });
    },
    async fetch(run) {
      const end = metrics.gitFetchDuration.startTimer();
      try {
        const result = await timedPhase(metrics, "fetch", run);
        end({ result: "ok" });
        return result;
      } catch (err) {
        end({ result: "error" });
        throw err;
      }
    },
  };
}
