import type { Database } from "../../libs/db/open-database.js";
import type { CollectionWatchers } from "./collection-watchers.js";

/** What the metadata domain needs: the database and its limits. */
export interface MetadataDeps {
  /** The open database; throws `MetadataUnavailableError` while it is not connected. */
  readonly database: () => Database;
  /** `[system] max_log_lines_per_build`: lines kept per build before dropping. */
  readonly maxLogLinesPerBuild: number;
  /** Clock for record times (epoch ms); leases use the database clock. */
  readonly now?: () => number;
  /** Streams of collected images (WatchCollected); without it MarkCollected tells nobody. */
  readonly collectionWatchers?: CollectionWatchers;
  /** This process on the collection feed: its own entries were published at once and are skipped when read back. */
  readonly origin?: string;
}

/** The clock of `deps`. */
export function nowOf(deps: MetadataDeps): number {
  return deps.now ? deps.now() : Date.now();
}
