import type { BuildStatus, LogLineRecord, LogStreamName } from "../../libs/db/records.js";
import { appendLogLines, readLogLines } from "../../libs/db/repositories/build-logs.js";
import { isFinal } from "./build-status.js";
import { requireBuild } from "./builds.js";
import { BuildFinalError, BuildNotFoundError, InvalidFieldError, StaleFencingTokenError } from "./errors.js";
import { droppedMarkerText, storableLineText } from "./log-line-text.js";
import { nowOf, type MetadataDeps } from "./metadata-deps.js";

/** A line as a writer sends it; seq is assigned on append, time when missing. */
export interface IncomingLogLine {
  readonly stream: LogStreamName;
  readonly text: string;
  readonly timeMs: number | undefined;
}

/**
 * Appends a batch of lines to a build: oversized lines are truncated with a
 * marker, lines past the per-build cap are dropped and counted. A final
 * build takes no more lines, so a follower that saw the final status has
 * seen every line. With `fencingToken` (> 0) the batch is stored only while
 * that token of the build's lease is current, else none of it.
 */
export async function appendLogs(
  deps: MetadataDeps,
  buildId: string,
  lines: readonly IncomingLogLine[],
  fencingToken = 0,
): Promise<{ lastSeq: number; dropped: number }> {
  if (buildId === "") await requireBuild(deps, buildId);
  const now = nowOf(deps);
  const maxLines = deps.maxLogLinesPerBuild;
  const result = await appendLogLines(
    deps.database(),
    buildId,
    lines.map((l) => ({ stream: l.stream, text: storableLineText(l.text), timeMs: l.timeMs ?? now })),
    { maxLines, markerText: (dropped) => droppedMarkerText(dropped, maxLines) },
    fencingToken,
  );
  switch (result.kind) {
    case "missing":
      throw new BuildNotFoundError(buildId);
    case "final":
      throw new BuildFinalError(buildId, result.status, "it takes no more log lines");
    case "stale":
      if (result.leaseKey === "") throw new InvalidFieldError("fencing_token", String(fencingToken), `0: build ${buildId} has no image key, so no lease`);
      throw new StaleFencingTokenError(`log lines of build ${buildId} were not stored`, result.leaseKey, fencingToken);
    case "stored":
      return { lastSeq: result.lastSeq, dropped: result.dropped };
  }
}

/** One message of a log stream. */
export interface LogChunk {
  readonly lines: readonly LogLineRecord[];
  /** Set on the last chunk when the build is final. */
  readonly finalStatus: BuildStatus | undefined;
}

const readBatch = 500;

/**
 * Streams stored lines from `fromSeq` (0 and 1: the start), then with
 * `follow` new ones until the build is final, in order, each once. The
 * status is read before the lines, and appends stop at the final status,
 * so the last read after seeing it misses nothing. Ends on abort.
 */
export async function* streamLogs(
  deps: MetadataDeps,
  req: { buildId: string; fromSeq: number; follow: boolean; signal: AbortSignal },
): AsyncGenerator<LogChunk> {
  let after = Math.max(0, req.fromSeq - 1);
  for (;;) {
    const database = deps.database();
    const build = await requireBuild(deps, req.buildId);
    for (;;) {
      const lines = await readLogLines(database.db, req.buildId, after, readBatch);
      const last = lines[lines.length - 1];
      if (!last) break;
      after = last.seq;
      yield { lines, finalStatus: undefined };
      if (lines.length < readBatch || req.signal.aborted) break;
    }
    if (req.signal.aborted) return;
    if (isFinal(build.status)) {
      yield { lines: [], finalStatus: build.status };
      return;
    }
    if (!req.follow) return;
    await database.logWaker.wait(req.buildId, req.signal);
    if (req.signal.aborted) return;
  }
}
