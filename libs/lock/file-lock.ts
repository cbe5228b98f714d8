import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { lock as properLock } from "proper-lockfile";
import { DomainError } from "../errors/domain-error.js";

/**
 * A lock that holds across processes (and hosts sharing a folder): a
 * directory made with `mkdir` (atomic on every file system we run on, NFS
 * included), whose mtime its holder refreshes every `staleMs / 2`. A holder
 * that dies (SIGKILL, crash, power cut) stops refreshing it; after `staleMs`
 * the next process to ask removes it and takes the lock. Built on
 * proper-lockfile.
 */
export interface FileLockOptions {
  /** Name in errors, e.g. `mirror "file:///srv/app.git"`. */
  readonly name: string;
  /** Path of the lock directory itself (created; its parent too). */
  readonly path: string;
  /** How long an unrefreshed lock is taken as held; at least 2000 ms. Default 10 000. */
  readonly staleMs?: number;
  /** Longest wait for a lock someone else holds; then `LockUnavailableError`. 0 means try once. */
  readonly waitMs: number;
  /** Stops the wait with `LockCanceledError`. */
  readonly signal?: AbortSignal;
}

/** A lock this process holds. */
export interface HeldLock {
  /**
   * Aborted when the lock was lost while held (its file could not be
   * refreshed for `staleMs`, or another process took it over): work done
   * under it must stop.
   */
  readonly lost: AbortSignal;
  /** Releases the lock; safe to call twice. */
  release(): Promise<void>;
}

/** Default stale period of every lock: a dead holder blocks others this long at most. */
export const DEFAULT_LOCK_STALE_MS = 10_000;

/** Another process held the lock for longer than the caller's wait bound. */
export class LockUnavailableError extends DomainError {
  readonly lockName: string;
  constructor(name: string, waitedMs: number) {
    super("unavailable", `lock on ${name} is held by another process: waited ${Math.round(waitedMs / 1000)}s, expected it to be released sooner; retry later`);
    this.lockName = name;
  }
}

/** The caller cancelled while waiting for the lock. */
export class LockCanceledError extends DomainError {
  constructor(name: string) {
    super("canceled", `waiting for the lock on ${name} was cancelled`);
  }
}

/** Shortest and longest pause between two tries, in ms. */
const firstPauseMs = 20;
const longestPauseMs = 500;

/**
 * Takes the lock, waiting (polling with a growing pause, up to
 * `waitMs`) while another live process holds it. A lock left by a dead
 * holder is taken over once it is `staleMs` old.
 */
export async function acquireFileLock(opts: FileLockOptions): Promise<HeldLock> {
  const stale = Math.max(opts.staleMs ?? DEFAULT_LOCK_STALE_MS, 2000);
  const started = Date.now();
  const lost = new AbortController();
  await mkdir(dirname(opts.path), { recursive: true });
  for (let pause = firstPauseMs; ; pause = Math.min(pause * 2, longestPauseMs)) {
    if (opts.signal?.aborted) throw new LockCanceledError(opts.name);
    try {
      const unlock = await properLock(opts.path, {
        lockfilePath: opts.path,
        realpath: false,
        stale,
        retries: 0,
        onCompromised: (err) => lost.abort(err),
      });
      let released: Promise<void> | undefined;
      return {
        lost: lost.signal,
        release: () => (released ??= unlock().catch(() => undefined)),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
    }
    const left = started + opts.waitMs - Date.now();
    if (left <= 0) throw new LockUnavailableError(opts.name, Date.now() - started);
    await pauseFor(Math.min(pause, left), opts.signal);
  }
}

/**
 * Runs `fn` holding the lock; `fn` gets a signal aborted when the caller's
 * signal aborts or the lock is lost.
 */
export async function withFileLock<T>(opts: FileLockOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const held = await acquireFileLock(opts);
  const signal = opts.signal === undefined ? held.lost : AbortSignal.any([opts.signal, held.lost]);
  try {
    return await fn(signal);
  } finally {
    await held.release();
  }
}

function pauseFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
