import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { BuildStatus } from "../libs/gen/buildplane/v1/common_pb.js";

/** A build status as the API's enum name says it, lower case: `running`, `failed`… */
export function statusName(status: BuildStatus): string {
  return (BuildStatus[status] ?? "UNSPECIFIED").toLowerCase();
}

/** The statuses a build may be filtered by, in life-cycle order. */
export const filterStatuses: readonly BuildStatus[] = [
  BuildStatus.QUEUED,
  BuildStatus.RUNNING,
  BuildStatus.PUSHING,
  BuildStatus.SUCCEEDED,
  BuildStatus.FAILED,
  BuildStatus.CANCELED,
  BuildStatus.ABANDONED,
];

/** `statusName`'s inverse, for the status filter in the URL. */
export function parseStatus(name: string | null): BuildStatus {
  return filterStatuses.find((s) => statusName(s) === name) ?? BuildStatus.UNSPECIFIED;
}

/** True once a build can no longer change. */
export function isFinal(status: BuildStatus): boolean {
  return status === BuildStatus.SUCCEEDED || status === BuildStatus.FAILED || status === BuildStatus.CANCELED || status === BuildStatus.ABANDONED;
}

export function toDate(ts: Timestamp | undefined): Date | undefined {
  return ts && (ts.seconds !== 0n || ts.nanos !== 0) ? timestampDate(ts) : undefined;
}

/** Local date and time, to the second. */
export function formatTime(ts: Timestamp | undefined): string {
  const d = toDate(ts);
  return d ? d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }) : "—";
}

/** `1m 05s` between two times, the second defaulting to now. */
export function formatDuration(from: Timestamp | undefined, to: Timestamp | undefined, now: number = Date.now()): string {
  const start = toDate(from);
  if (!start) return "—";
  const ms = Math.max(0, (toDate(to)?.getTime() ?? now) - start.getTime());
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** The first 12 hex digits of a commit or digest (`sha256:` kept). */
export function shortHash(hash: string): string {
  if (hash === "") return "—";
  const [algo, hex] = hash.includes(":") ? hash.split(":", 2) : ["", hash];
  return `${algo ? `${algo}:` : ""}${(hex ?? "").slice(0, 12)}`;
}

/**
 * A repository URL without credentials: the record keeps none, and a URL
 * that carried `user:password@` is shown without it anyway.
 */
export function withoutCredentials(repository: string): string {
  return repository.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
}
