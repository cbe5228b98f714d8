import { sql, type Kysely } from "kysely";
import type { DbCapabilities } from "./db-bundle.js";

/**
 * Runs `fn` in a transaction that holds the write lock from its first
 * statement (`begin immediate` on SQLite, so the busy timeout applies and a
 * read-then-write never deadlocks; plain `begin` plus row locks on Postgres).
 */
export async function withWriteTransaction<DB, T>(
  db: Kysely<DB>,
  caps: DbCapabilities,
  fn: (trx: Kysely<DB>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql.raw(caps.beginWrite).execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw err;
    }
  });
}
