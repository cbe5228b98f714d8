import { setTimeout as sleep } from "node:timers/promises";
import { domainErrorOf, type DomainError } from "../../libs/errors/domain-error.js";
import type { LogEntry, NewBuild, RecordFields } from "./domain.js";
import { RecordFinishedError } from "./flow-errors.js";
import type { OutageBudget } from "./outage-budget.js";
import type { BuildStorePort } from "./ports.js";

export type { RecordFields } from "./domain.js";

/**
 * The record of one running build and its log, written in order through
 * one queue: every write carries the lease's fencing token, is retried
 * while the database is away (within the outage budget), and log lines
 * wait in a bounded buffer meanwhile. A write refused for good (the token
 * is no longer current, or the outage outlasted the budget) aborts
 * `failed` with that error, a domain error: the build must stop.
 */
export interface BuildRecord {
  readonly id: string;
  /** Queues a change of the record. */
  update(fields: RecordFields): void;
  /** Queues a log line (dropped and counted once the buffer holds `maxBufferedLines`). */
  log(line: LogEntry): void;
  /** Writes every queued line and change, then `fields`; rejects with the failure that stopped the writes. */
  finish(fields: RecordFields): Promise<void>;
  readonly failed: AbortSignal;
  /**
   * Resolves once an outcome being written late (the database was away
   * past the budget) is stored or given up; at once when there is none.
   * The lease is released after it: a release first would leave the record
   * to the lease reaper, which marks it abandoned.
   */
  lateWrite(): Promise<void>;
}

/** What writing a build record needs. */
export interface BuildRecordDeps {
  readonly builds: BuildStorePort;
  readonly budget: OutageBudget;
  /** The lease's fencing token (0n: the record is not bound to a lease). */
  readonly token: bigint;
  /** Lines kept while the database is away; default 10 000. */
  readonly maxBufferedLines?: number;
  /**
   * How long, after an outage outlasted the budget, the outcome (and the
   * lines still waiting) keep being written in the background, so the
   * record becomes final as soon as the database is back; default 10 min.
   */
  readonly lateWriteMs?: number;
}

const maxBatch = 500;

/** Creates the build record (bound to the lease token) and returns its writer. */
export async function createBuildRecord(deps: BuildRecordDeps, build: NewBuild): Promise<BuildRecord> {
  const id = await deps.budget.run("creating the build record", () => deps.builds.create(build, deps.token));
  return buildRecordWriter(deps, id);
}

/** The writer of the existing record `id`; see `BuildRecord`. */
export function buildRecordWriter(deps: BuildRecordDeps, id: string): BuildRecord {
  const { builds, budget, token } = deps;
  const maxBuffered = deps.maxBufferedLines ?? 10_000;
  const failed = new AbortController();
  const updates: RecordFields[] = [];
  let lines: LogEntry[] = [];
  let dropped = 0;
  let final: { fields: RecordFields; done: () => void } | undefined;
  let pumping: Promise<void> | undefined;
  let finished = false;
  let late: Promise<void> = Promise.resolve();

  const fail = (err: unknown): void => {
    if (!failed.signal.aborted) failed.abort(domainErrorOf(err));
  };
  const writeLines = async (): Promise<void> => {
    const batch = lines.slice(0, maxBatch);
    if (batch.length < maxBatch && dropped > 0) {
      batch.push({
        seq: 0n,
        stream: "system",
        text: `${dropped} log lines were not stored: the metadata database was away and ${maxBuffered} lines were waiting`,
        time: new Date(),
      });
    }
    const sent = Math.min(batch.length, lines.length);
    const droppedSent = batch.length > sent ? dropped : 0;
    await budget.run(`storing log lines of build ${id}`, () => builds.appendLogs(id, batch, token));
    lines = lines.slice(sent);
    dropped -= droppedSent;
  };
  const pump = async (): Promise<void> => {
    while (!failed.signal.aborted) {
      const next = updates[0];
      if (next) {
        await budget.run(`updating build ${id}`, () => builds.update(id, next, token));
        updates.shift();
      } else if (lines.length > 0 || dropped > 0) {
        await writeLines();
      } else if (final) {
        const last = final;
        await budget.run(`writing the outcome of build ${id}`, () => builds.update(id, last.fields, token));
        final = undefined;
        last.done();
        return;
      } else {
        return;
      }
    }
  };
  /**
   * The outcome of a build whose writes stopped because the database was
   * away longer than the budget: retried with backoff while the database
   * stays unavailable, after the lines still waiting; given up on any other
   * refusal (the lease token is no longer current: another holder owns the record).
   */
  const writeLate = async (fields: RecordFields): Promise<void> => {
    const until = Date.now() + (deps.lateWriteMs ?? 10 * 60_000);
    let delay = 250;
    while (Date.now() < until) {
      try {
        if (lines.length > 0) {
          const batch = lines.slice(0, maxBatch);
          await builds.appendLogs(id, batch, token);
          lines = lines.slice(batch.length);
          continue;
        }
        await builds.update(id, fields, token);
        return;
      } catch (err) {
        if (domainErrorOf(err).code !== "unavailable") return;
        await sleep(delay, undefined, { ref: false });
        delay = Math.min(delay * 2, 2000);
      }
    }
  };
  const kick = (): void => {
    if (pumping || failed.signal.aborted) return;
    pumping = pump()
      .catch(fail)
      .finally(() => {
        pumping = undefined;
        if (!failed.signal.aborted && (updates.length > 0 || lines.length > 0 || dropped > 0 || final)) kick();
      });
  };

  return {
    id,
    failed: failed.signal,
    lateWrite: () => late,
    update(fields) {
      if (finished) return;
      updates.push(fields);
      kick();
    },
    log(line) {
      if (finished) return;
      if (lines.length >= maxBuffered) dropped++;
      else lines.push(line);
      kick();
    },
    finish(fields) {
      if (finished) return Promise.reject(new RecordFinishedError(id));
      finished = true;
      return new Promise<void>((resolve, reject) => {
        const failure = (): DomainError => domainErrorOf(failed.signal.reason);
        if (failed.signal.aborted) {
          if (failure().code === "unavailable") late = writeLate(fields);
          return reject(failure());
        }
        const onFail = (): void => {
          if (failure().code === "unavailable") late = writeLate(fields);
          reject(failure());
        };
        failed.signal.addEventListener("abort", onFail, { once: true });
        final = {
          fields,
          done: () => {
            failed.signal.removeEventListener("abort", onFail);
            resolve();
          },
        };
        kick();
      });
    },
  };
}
