import { checkCapabilities as check, type ModeCapabilities } from "../../libs/build/capability-check.js";
import { Secret } from "../../libs/secret/secret.js";
import type { BuildJob, BuilderModeKind } from "./image-builder.js";

/** Applies the one capability rule (`libs/build/capability-check.ts`) to a build job. */
export function checkCapabilities(mode: BuilderModeKind, capabilities: ModeCapabilities, job: Pick<BuildJob, "buildId" | "args" | "registry">): void {
  check(mode, capabilities, {
    buildId: job.buildId,
    secretArgs: job.args.filter((a) => a.value instanceof Secret).map((a) => a.name),
    hasRegistry: job.registry !== undefined,
  });
}
