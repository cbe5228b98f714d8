import type { Generated, Insertable, Selectable } from "kysely";

/**
 * The metadata schema as kysely sees it. Times are epoch milliseconds in
 * `bigint` columns (read back as numbers in both dialects), so one set of
 * column types serves SQLite and Postgres.
 */
export interface DatabaseSchema {
  apps: AppsTable;
  builds: BuildsTable;
  build_logs: BuildLogsTable;
  leases: LeasesTable;
  install_secrets: InstallSecretsTable;
  collection_head: CollectionHeadTable;
  collections: CollectionsTable;
}

export interface AppsTable {
  id: string;
  name: string;
  repository: string;
  ref: string;
  dir: string;
  containerfile: string;
  /** JSON array of `{name, value, secret}`; secret args keep no value. */
  args_json: string;
  target: string;
  created_at: number;
  updated_at: number;
  /** Seconds between checks of the app's ref without a webhook; 0: never. */
  poll_interval_secs: Generated<number>;
}
export type AppRow = Selectable<AppsTable>;
export type NewAppRow = Insertable<AppsTable>;

export interface BuildsTable {
  id: string;
  app_id: string;
  image_key: string;
  image: string;
  digest: string;
  commit_sha: string;
  tree_hash: string;
  mode: string;
  builder_node: string;
  status: string;
  error_code: string;
  error_message: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  context_bytes: number;
  requester: string;
  source_repository: string;
  source_ref: string;
  source_dir: string;
  /** Lease that guards the build: `build:<image_key>`. */
  lease_key: string;
  /** Lease token the build is bound to; 0 means not bound (never reaped). */
  lease_token: number;
  /** Sequence number of the last stored log line (0: none). */
  log_last_seq: Generated<number>;
  /** Lines stored, marker excluded: what the per-build cap counts. */
  log_stored: Generated<number>;
  /** Lines dropped by the cap so far. */
  log_dropped: Generated<number>;
  /** Sequence number of the "lines dropped" marker line (0: none yet). */
  log_marker_seq: Generated<number>;
  /** Containerfile path relative to the build folder. */
  containerfile: Generated<string>;
  /** JSON array of `{name, value, secret}`; secret args keep no value. */
  args_json: Generated<string>;
  target: Generated<string>;
  platform: Generated<string>;
  /** When the build entered `pushing`. */
  pushed_at: number | null;
  /** When garbage collection deleted the image (epoch ms); null while it exists. */
  collected_at: number | null;
  /** 1 when kept by garbage collection whatever its age. */
  pinned: Generated<number>;
}
export type BuildRow = Selectable<BuildsTable>;
export type NewBuildRow = Insertable<BuildsTable>;

export interface BuildLogsTable {
  build_id: string;
  seq: number;
  time_ms: number;
  /** "stdout", "stderr" or "system". */
  stream: string;
  text: string;
}
export type BuildLogRow = Selectable<BuildLogsTable>;
export type NewBuildLogRow = Insertable<BuildLogsTable>;

export interface LeasesTable {
  key: string;
  holder: string;
  /** Fencing token: grows by one on every acquisition, never reused. */
  token: number;
  /** Expiry in epoch ms of the database clock; 0 once released. */
  expires_at: number;
}
export type LeaseRow = Selectable<LeasesTable>;

/** Per-install values kept with the metadata; `value` is hex. Never exposed but to internal callers. */
export interface InstallSecretsTable {
  name: string;
  value: string;
  created_at: number;
}

/** One row (`id` 1): the last `seq` handed to a collection. */
export interface CollectionHeadTable {
  id: number;
  last_seq: number;
}

/** An image garbage collection deleted, in commit order. */
export interface CollectionsTable {
  seq: number;
  image: string;
  /** The metadata process that marked it (it told its own watchers at once). */
  origin: string;
  /** Epoch ms; rows older than the feed's retention are pruned. */
  at: number;
}
export type CollectionRow = Selectable<CollectionsTable>;
