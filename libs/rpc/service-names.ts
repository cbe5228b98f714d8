import { BuilderService } from "../gen/buildplane/v1/builder_pb.js";
import { ConfigService } from "../gen/buildplane/v1/config_pb.js";
import { LifecycleService } from "../gen/buildplane/v1/lifecycle_pb.js";
import { MetadataService } from "../gen/buildplane/v1/metadata_pb.js";
import { ResolverService } from "../gen/buildplane/v1/resolver_pb.js";
import { SourceService } from "../gen/buildplane/v1/source_pb.js";

/** The generated descriptor of each buildplane service, by its short name. */
export const serviceDescriptors = {
  config: ConfigService,
  metadata: MetadataService,
  source: SourceService,
  resolver: ResolverService,
  builder: BuilderService,
  lifecycle: LifecycleService,
} as const;

/** A service's short name, as in `--services` and `[services] <name>_url`. */
export type ServiceName = keyof typeof serviceDescriptors;

/** Every service name, in dependency order. */
export const serviceNames: readonly ServiceName[] = ["config", "metadata", "source", "resolver", "builder", "lifecycle"];

/** True when `s` names a buildplane service. */
export function isServiceName(s: string): s is ServiceName {
  return Object.hasOwn(serviceDescriptors, s);
}
