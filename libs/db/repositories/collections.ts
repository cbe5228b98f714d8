import type { Kysely } from "kysely";
import type { CollectionRow, DatabaseSchema } from "../tables.js";

/**
 * Appends `images` to the collection feed. Run inside a write transaction:
 * the head row is updated first, which holds it (a row lock on Postgres, the
 * write lock on SQLite) until commit, so sequence numbers commit in order.
 */
export async function appendCollections(trx: Kysely<DatabaseSchema>, images: readonly string[], origin: string, nowMs: number): Promise<void> {
  if (images.length === 0) return;
  const head = await trx
    .updateTable("collection_head")
    .set((eb) => ({ last_seq: eb("last_seq", "+", images.length) }))
    .where("id", "=", 1)
    .returning("last_seq")
    .executeTakeFirstOrThrow();
  const first = Number(head.last_seq) - images.length + 1;
  await trx
    .insertInto("collections")
    .values(images.map((image, i) => ({ seq: first + i, image, origin, at: nowMs })))
    .execute();
}

/** The last sequence number handed out (0 before any collection). */
export async function lastCollectionSeq(db: Kysely<DatabaseSchema>): Promise<number> {
  const row = await db.selectFrom("collection_head").select("last_seq").where("id", "=", 1).executeTakeFirst();
  return row === undefined ? 0 : Number(row.last_seq);
}

/** Up to `limit` feed rows after `seq`, oldest first. */
export async function collectionsAfter(db: Kysely<DatabaseSchema>, seq: number, limit: number): Promise<CollectionRow[]> {
  const rows = await db.selectFrom("collections").selectAll().where("seq", ">", seq).orderBy("seq").limit(limit).execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) }));
}

/** Deletes feed rows older than `beforeMs`; returns how many. */
export async function pruneCollections(db: Kysely<DatabaseSchema>, beforeMs: number): Promise<number> {
  const res = await db.deleteFrom("collections").where("at", "<", beforeMs).executeTakeFirst();
  return Number(res.numDeletedRows);
}
