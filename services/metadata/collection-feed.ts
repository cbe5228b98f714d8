import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "../../libs/db/open-database.js";
import { collectionsAfter, lastCollectionSeq, pruneCollections } from "../../libs/db/repositories/collections.js";
import type { CollectionWatchers } from "./collection-watchers.js";
import { nowOf, type MetadataDeps } from "./metadata-deps.js";

/** The key the feed waits on with the database's log waker (no build id looks like it). */
export const collectionFeedKey = "collections";

export interface CollectionFeedOptions {
  /** This process's origin: rows it wrote were published when marked. */
  readonly origin: string;
  readonly signal: AbortSignal;
  /** How long feed rows are kept (default one hour): far above a read's lag. */
  readonly retentionMs?: number;
  /** Wait between reads when the database cannot be reached (default 1 s). */
  readonly retryMs?: number;
  /** Rows per read (default 500). */
  readonly batch?: number;
  /** The feed went down (with the error) or came back; for the server log. */
  readonly onChange?: (live: boolean, err?: unknown) => void;
}

/**
 * Reads the collection feed after a cursor, so collections marked by other
 * metadata processes on the same database (replicas on Postgres, a
 * `buildplane gc` beside a server on SQLite) reach this process's watchers.
 * It reads when the database announces a collection (Postgres NOTIFY) and
 * at the log waker's poll interval. While reads fail the watchers are down
 * (a resolver then trusts no cached answer); once a read succeeds again the
 * cursor restarts at the head, since every watcher watches afresh.
 */
export function startCollectionFeed(deps: MetadataDeps & { readonly collectionWatchers: CollectionWatchers }, opts: CollectionFeedOptions): void {
  const retentionMs = opts.retentionMs ?? 3_600_000;
  const batch = opts.batch ?? 500;
  const watchers = deps.collectionWatchers;
  void (async () => {
    let cursor: number | undefined;
    let prunedAt = 0;
    while (!opts.signal.aborted) {
      let database: Database | undefined;
      try {
        database = deps.database();
        if (cursor === undefined) {
          cursor = await lastCollectionSeq(database.db);
          watchers.setLive(true);
          opts.onChange?.(true);
        } else {
          for (;;) {
            const rows = await collectionsAfter(database.db, cursor, batch);
            const others = rows.filter((r) => r.origin !== opts.origin).map((r) => r.image);
            if (others.length > 0) watchers.publish(others);
            cursor = rows.at(-1)?.seq ?? cursor;
            if (rows.length < batch) break;
          }
        }
        const now = nowOf(deps);
        if (now - prunedAt > retentionMs / 10) {
          await pruneCollections(database.db, now - retentionMs);
          prunedAt = now;
        }
      } catch (err) {
        if (opts.signal.aborted) break;
        if (cursor !== undefined) {
          cursor = undefined;
          const where = database ? `metadata database ${database.describe}` : "the metadata database";
          watchers.setLive(false, `the collection feed cannot read ${where}: ${err instanceof Error ? err.message : String(err)}`);
          opts.onChange?.(false, err);
        }
        database = undefined;
      }
      if (database) await database.logWaker.wait(collectionFeedKey, opts.signal);
      else await sleep(opts.retryMs ?? 1000, undefined, { signal: opts.signal }).catch(() => undefined);
    }
    watchers.setLive(false, "the metadata service is stopping");
  })();
}
