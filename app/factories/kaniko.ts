import type { ResolvedConfig } from "../../libs/config/config-types.js";
import type { BuildHeader } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { kanikoOptionsFromConfig } from "../../services/builder/kaniko/kaniko-config.js";
import { kanikoDryRunLines } from "../../services/builder/kaniko/kaniko-dry-run.js";

/**
 * The Kubernetes objects a kaniko build with this header would create, as
 * JSON lines with secret data redacted — planned with the very options the
 * kaniko builder of this configuration uses. For `buildplane build --dry-run`.
 */
export function kanikoDryRun(config: ResolvedConfig, header: BuildHeader): string[] {
  return kanikoDryRunLines(header, kanikoOptionsFromConfig(config), config.builder.buildTimeoutSecs);
}
