import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { DomainError } from "../../../libs/errors/domain-error.js";
import { BuildStatus } from "../../../libs/gen/buildplane/v1/common_pb.js";
import type { MetadataService } from "../../../libs/gen/buildplane/v1/metadata_pb.js";
import type { LeaseCheck } from "./sweep-schedule.js";

/** The metadata service could not say whether a build still runs. */
export class BuildLivenessError extends DomainError {
  constructor(readonly buildId: string, reason: string, cause: unknown) {
    super("unavailable", `the kaniko sweeper could not read build "${buildId}" from metadata: ${reason}`, { cause });
  }
}

const active: ReadonlySet<BuildStatus> = new Set([BuildStatus.QUEUED, BuildStatus.RUNNING, BuildStatus.PUSHING]);

/**
 * The sweeper's `isLeaseAlive`, answered by the metadata service: a build is
 * alive while its record is queued, running or pushing. A final record
 * (succeeded, failed, canceled, abandoned — the lease reaper abandons builds
 * whose lease lapsed) or no record at all means nobody will clean up its
 * Job. Any other failure is thrown, so a pass never deletes on a guess.
 */
export function buildLiveness(metadata: Pick<Client<typeof MetadataService>, "getBuild">, signal?: AbortSignal): LeaseCheck {
  return async (buildId) => {
    if (buildId === "") return false;
    try {
      const { build } = await metadata.getBuild({ id: buildId }, signal ? { signal } : {});
      return build !== undefined && active.has(build.status);
    } catch (e) {
      const err = ConnectError.from(e);
      if (err.code === Code.NotFound) return false;
      throw new BuildLivenessError(buildId, err.rawMessage, e);
    }
  };
}
