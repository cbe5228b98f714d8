import { sql, type Kysely } from "kysely";
import type { DbCapabilities } from "../db-bundle.js";
import type { DatabaseSchema, LeaseRow } from "../tables.js";
import type { LeaseRecord } from "../records.js";

/** Outcome of `acquireLease`: who holds the lease now. */
export interface AcquireResult {
  readonly acquired: boolean;
  /** The caller's lease when acquired, else the one in force (if any). */
  readonly lease: LeaseRecord | undefined;
}

/**
 * Takes `key` for `holder` when it is free or expired, in one statement
 * (`insert … on conflict do update … where expired returning`), atomic in
 * both dialects: of many racing callers exactly one wins. Each acquisition
 * gets the previous token plus one, so tokens fence out earlier holders.
 * Expiry is on the database clock. A live lease is not re-entrant, even for
 * its own holder: renew it instead. With `replaceHolder`, a live lease held
 * by exactly that holder is taken too (its process is known to be dead).
 */
export async function acquireLease(
  db: Kysely<DatabaseSchema>,
  caps: DbCapabilities,
  key: string,
  holder: string,
  ttlMs: number,
  replaceHolder = "",
): Promise<AcquireResult> {
  const expires = sql<number>`${caps.nowMs} + ${ttlMs}`;
  const won = await db
    .insertInto("leases")
    .values({ key, holder, token: 1, expires_at: expires })
    .onConflict((oc) =>
      oc
        .column("key")
        .doUpdateSet((eb) => ({
          holder: eb.ref("excluded.holder"),
          token: sql<number>`leases.token + 1`,
          expires_at: eb.ref("excluded.expires_at"),
        }))
        .where((eb) =>
          replaceHolder === ""
            ? eb("leases.expires_at", "<=", caps.nowMs)
            : eb.or([eb("leases.expires_at", "<=", caps.nowMs), eb("leases.holder", "=", replaceHolder)]),
        ),
    )
    .returningAll()
    .executeTakeFirst();
  if (won) return { acquired: true, lease: toLease(won) };
  return { acquired: false, lease: await getLease(db, key) };
}

/** Extends a lease its holder still holds; undefined when it expired or changed hands. */
export async function renewLease(
  db: Kysely<DatabaseSchema>,
  caps: DbCapabilities,
  lease: { key: string; holder: string; token: number },
  ttlMs: number,
): Promise<LeaseRecord | undefined> {
  const row = await db
    .updateTable("leases")
    .set({ expires_at: sql<number>`${caps.nowMs} + ${ttlMs}` })
    .where("key", "=", lease.key)
    .where("holder", "=", lease.holder)
    .where("token", "=", lease.token)
    .where("expires_at", ">", caps.nowMs)
    .returningAll()
    .executeTakeFirst();
  return row && toLease(row);
}

/**
 * Ends a lease early. The row stays (expired) so the next token is still
 * higher. False when the caller no longer held that token.
 */
export async function releaseLease(
  db: Kysely<DatabaseSchema>,
  lease: { key: string; holder: string; token: number },
): Promise<boolean> {
  const res = await db
    .updateTable("leases")
    .set({ expires_at: 0 })
    .where("key", "=", lease.key)
    .where("holder", "=", lease.holder)
    .where("token", "=", lease.token)
    .where("expires_at", ">", 0)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** The lease row for `key`, expired or not. */
export async function getLease(db: Kysely<DatabaseSchema>, key: string): Promise<LeaseRecord | undefined> {
  const row = await db.selectFrom("leases").selectAll().where("key", "=", key).executeTakeFirst();
  return row && toLease(row);
}

function toLease(row: LeaseRow): LeaseRecord {
  return { key: row.key, holder: row.holder, token: Number(row.token), expiresAt: Number(row.expires_at) };
}

/** True while `key` is held with `token` and not expired (database clock). */
export async function isLeaseCurrent(db: Kysely<DatabaseSchema>, caps: DbCapabilities, key: string, token: number): Promise<boolean> {
  const row = await db
    .selectFrom("leases")
    .select("key")
    .where("key", "=", key)
    .where("token", "=", token)
    .where("expires_at", ">", caps.nowMs)
    .executeTakeFirst();
  return row !== undefined;
}

/** Leases whose key starts with `prefix` and that have not expired on the database clock. */
export async function listHeldLeases(db: Kysely<DatabaseSchema>, caps: DbCapabilities, prefix: string): Promise<LeaseRecord[]> {
  const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
  const rows = await db
    .selectFrom("leases")
    .selectAll()
    .where("key", "like", sql<string>`${`${escaped}%`} escape '\\'`)
    .where("expires_at", ">", caps.nowMs)
    .orderBy("key")
    .execute();
  return rows.map(toLease);
}
