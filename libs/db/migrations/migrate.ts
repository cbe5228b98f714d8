import { Migrator, type Kysely } from "kysely";
import { DomainError } from "../../errors/domain-error.js";
import { createMigrationProvider } from "./provider.js";

/** A migration failed; the database is left at the last one that succeeded. */
export class MigrationFailedError extends DomainError {
  constructor(readonly migration: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super("internal", `metadata migration "${migration}" failed: ${why}`, { cause });
  }
}

/**
 * Brings the schema to the latest migration; a no-op when it is already
 * there. Each run is one transaction holding the database's migration lock
 * (Postgres: an advisory lock; SQLite: the write lock, see the SQLite
 * bundle), so processes starting together apply each migration once. One
 * that waited past SQLite's busy timeout sees "database is locked": retried.
 */
export async function migrateToLatest<T>(db: Kysely<T>, signal?: AbortSignal): Promise<string[]> {
  const migrator = new Migrator({ db, provider: createMigrationProvider() });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
    const locked = error instanceof Error && /database is locked|SQLITE_BUSY/i.test(error.message);
    if (!locked || attempt >= 20 || signal?.aborted) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "(setup)";
      throw new MigrationFailedError(failed, error);
    }
    await new Promise((r) => setTimeout(r, 50 * attempt));
  }
}
