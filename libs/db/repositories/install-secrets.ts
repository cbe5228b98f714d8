import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { DomainError } from "../../errors/domain-error.js";
import type { DatabaseSchema } from "../tables.js";

/** Name of the key that hashes secret build args into image keys. */
export const imageKeyHmacName = "image-key-hmac";

const keyBytes = 32;

/**
 * The install's random key called `name`, created on first use: 32 random
 * bytes inserted with `on conflict do nothing`, then read back, so processes
 * racing on a fresh database all get the one key that was stored first. The
 * key never changes afterwards: restarts of the install see the same key.
 */
export async function getOrCreateInstallKey(db: Kysely<DatabaseSchema>, name: string, now: number = Date.now()): Promise<Uint8Array> {
  const existing = await readKey(db, name);
  if (existing !== undefined) return existing;
  await db
    .insertInto("install_secrets")
    .values({ name, value: randomBytes(keyBytes).toString("hex"), created_at: now })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  const stored = await readKey(db, name);
  if (stored === undefined) throw new DomainError("internal", `install key ${JSON.stringify(name)} was not stored: expected the row just inserted`);
  return stored;
}

async function readKey(db: Kysely<DatabaseSchema>, name: string): Promise<Uint8Array | undefined> {
  const row = await db.selectFrom("install_secrets").select("value").where("name", "=", name).executeTakeFirst();
  return row === undefined ? undefined : new Uint8Array(Buffer.from(row.value, "hex"));
}
