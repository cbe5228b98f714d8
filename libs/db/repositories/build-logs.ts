import type { Kysely } from "kysely";
import type { DbCapabilities, LogWaker } from "../db-bundle.js";
import type { DatabaseSchema, NewBuildLogRow } from "../tables.js";
import { finalStatuses, type BuildStatus, type LogLineRecord, type LogStreamName } from "../records.js";
import { withWriteTransaction } from "../write-transaction.js";

/** A line to store; its sequence number is assigned here. */
export interface NewLogLine {
  readonly stream: LogStreamName;
  readonly text: string;
  readonly timeMs: number;
}

/** How many lines a build keeps and what the "dropped" marker says. */
export interface LogCapPolicy {
  readonly maxLines: number;
  readonly markerText: (dropped: number) => string;
}

export type AppendResult =
  | { readonly kind: "stored"; readonly lastSeq: number; readonly dropped: number }
  | { readonly kind: "missing" }
  | { readonly kind: "final"; readonly status: BuildStatus }
  | { readonly kind: "stale"; readonly leaseKey: string };

/** What appending needs from an open database. */
export interface LogStore {
  readonly db: Kysely<DatabaseSchema>;
  readonly capabilities: DbCapabilities;
  readonly logWaker: LogWaker;
}

const chunkRows = 500;

/**
 * Appends `lines` to a build in one write transaction: sequence numbers
 * follow the last stored one without gaps, even with several writers. Past
 * the cap, lines are dropped and a single system marker line (added once,
 * rewritten on later drops) says how many. A final build takes no more lines.
 * With `fencingToken` (> 0), nothing is stored unless that token of the
 * build's lease is current on the database clock, checked in the same
 * transaction: a holder that lost its lease cannot add a line.
 */
export async function appendLogLines(
  store: LogStore,
  buildId: string,
  lines: readonly NewLogLine[],
  cap: LogCapPolicy,
  fencingToken = 0,
): Promise<AppendResult> {
  const result = await withWriteTransaction(store.db, store.capabilities, async (trx): Promise<AppendResult> => {
    let q = trx
      .selectFrom("builds")
      .select(["status", "lease_key", "log_last_seq", "log_stored", "log_dropped", "log_marker_seq"])
      .where("id", "=", buildId);
    if (store.capabilities.supportsRowLocks) q = q.forUpdate();
    const b = await q.executeTakeFirst();
    if (!b) return { kind: "missing" };
    const status = b.status as BuildStatus;
    if (finalStatuses.has(status)) return { kind: "final", status };
    if (fencingToken > 0) {
      const current = await trx
        .selectFrom("leases")
        .select("key")
        .where("key", "=", b.lease_key)
        .where("token", "=", fencingToken)
        .where("expires_at", ">", store.capabilities.nowMs)
        .executeTakeFirst();
      if (!current) return { kind: "stale", leaseKey: b.lease_key };
    }
    const stored = Number(b.log_stored);
    const kept = lines.slice(0, Math.max(0, cap.maxLines - stored));
    const dropped = lines.length - kept.length;
    let seq = Number(b.log_last_seq);
    const rows: NewBuildLogRow[] = kept.map((l) => ({ build_id: buildId, seq: ++seq, time_ms: l.timeMs, stream: l.stream, text: l.text }));
    for (let i = 0; i < rows.length; i += chunkRows) {
      await trx.insertInto("build_logs").values(rows.slice(i, i + chunkRows)).execute();
    }
    let marker = Number(b.log_marker_seq);
    const totalDropped = Number(b.log_dropped) + dropped;
    if (dropped > 0) {
      const text = cap.markerText(totalDropped);
      if (marker === 0) {
        marker = ++seq;
        const timeMs = lines[lines.length - 1]?.timeMs ?? Date.now();
        await trx.insertInto("build_logs").values({ build_id: buildId, seq: marker, time_ms: timeMs, stream: "system", text }).execute();
      } else {
        await trx.updateTable("build_logs").set({ text }).where("build_id", "=", buildId).where("seq", "=", marker).execute();
      }
    }
    if (rows.length > 0 || dropped > 0) {
      await trx
        .updateTable("builds")
        .set({ log_last_seq: seq, log_stored: stored + kept.length, log_dropped: totalDropped, log_marker_seq: marker })
        .where("id", "=", buildId)
        .execute();
      await store.logWaker.announce(trx, buildId);
    }
    return { kind: "stored", lastSeq: seq, dropped };
  });
  if (result.kind === "stored") store.logWaker.wakeLocal(buildId);
  return result;
}

/** Stored lines of a build with `seq > afterSeq`, in order, at most `limit`. */
export async function readLogLines(
  db: Kysely<DatabaseSchema>,
  buildId: string,
  afterSeq: number,
  limit: number,
): Promise<LogLineRecord[]> {
  const rows = await db
    .selectFrom("build_logs")
    .selectAll()
    .where("build_id", "=", buildId)
    .where("seq", ">", afterSeq)
    .orderBy("seq")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ seq: Number(r.seq), stream: r.stream as LogStreamName, text: r.text, timeMs: Number(r.time_ms) }));
}
