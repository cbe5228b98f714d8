import { withSpan } from "../tracing/trace-context.js";
import type { BuildPhase, BuildplaneMetrics } from "./buildplane-metrics.js";

/**
 * Runs one build phase inside a span named after it (`build.fetch`,
 * `build.push`…) and observes its duration in
 * `buildplane_build_phase_duration_seconds{phase}`, whether it succeeds or fails.
 */
export async function timedPhase<T>(metrics: BuildplaneMetrics | undefined, phase: BuildPhase, fn: () => Promise<T>): Promise<T> {
  const end = metrics?.startPhase(phase);
  try {
    return await withSpan(`build.${phase}`, { "buildplane.phase": phase }, fn);
  } finally {
    end?.();
  }
}
