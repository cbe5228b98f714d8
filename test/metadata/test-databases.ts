import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** The local Postgres the tests use (trust auth for user postgres). */
export const postgresAdminUrl = "postgres://postgres@127.0.0.1:5432/postgres";

/** A fresh, empty metadata database and how to remove it. */
export interface TestDatabase {
  readonly dbConnection: string;
  drop(): Promise<void>;
}

/** One backend the contract suite runs against. */
export interface TestDialect {
  readonly name: "sqlite" | "postgres";
  create(): Promise<TestDatabase>;
}

/** A SQLite file in a new temp folder, removed with its WAL files on drop. */
async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "buildplane-meta-"));
  return {
    dbConnection: `sqlite:${join(dir, "nested", "metadata.db")}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A database with a random name on the local Postgres, dropped (forcefully) after. */
async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `bp_test_${randomBytes(6).toString("hex")}`;
  await admin(`create database ${name}`);
  return {
    dbConnection: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresAdminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Both dialects, for suites that must pass on each. */
export const testDialects: readonly TestDialect[] = [
  { name: "sqlite", create: createSqliteDatabase },
  { name: "postgres", create: createPostgresDatabase },
];
