import { Readable } from "node:stream";
import type { BuildHeader } from "../../../libs/gen/buildplane/v1/builder_pb.js";
import { buildJobFromHeader } from "../build-job.js";
import { newNameSuffix } from "./kaniko-names.js";
import type { KanikoOptions } from "./kaniko-options.js";
import { planKanikoBuild, planToJsonLines } from "./kaniko-plan.js";

/**
 * The Kubernetes objects a Build with this header would create, as JSON
 * lines with every Secret's data redacted: what `buildplane build
 * --dry-run` prints for an operator to review. The header goes through the
 * same validation as a real Build (`buildJobFromHeader`: args checked and
 * sorted, secret values wrapped) and the same planner, so only the random
 * name suffix and the owner references (added once the Job has a UID)
 * differ from a real run.
 */
export function kanikoDryRunLines(header: BuildHeader, options: KanikoOptions, defaultTimeoutSecs: number, suffix: string = newNameSuffix()): string[] {
  const job = buildJobFromHeader(header, Readable.from([]), { timeoutSecs: defaultTimeoutSecs });
  return planToJsonLines(planKanikoBuild(job, options, suffix));
}
