import pg from "pg";
import { PostgresDialect, sql } from "kysely";
import type { DbBundle, DbBundleOptions } from "../db-bundle.js";
import { createPostgresLogWaker } from "./log-waker.js";

const int8Oid = 20;

/**
 * Reads `bigint` columns as JavaScript numbers: our times, sequence numbers
 * and tokens stay far below 2^53.
 */
export const postgresTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === int8Oid && format !== "binary"
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * The Postgres backend: a `pg` pool of configurable size, row locks for
 * read-modify-write, and LISTEN/NOTIFY to wake log followers on other
 * replicas (polling stays as the fallback).
 */
export function createPostgresBundle(
  target: { url: string; host: string; port: number; database: string },
  opts: DbBundleOptions,
): DbBundle {
  const capabilities = {
    name: "postgres",
    beginWrite: "begin",
    supportsRowLocks: true,
    supportsNotify: true,
    nowMs: sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`,
    logPollMs: 1000,
  } as const;
  const clientConfig = { connectionString: target.url, types: postgresTypes, connectionTimeoutMillis: 5000 };
  const pool = new pg.Pool({ ...clientConfig, max: Math.max(1, opts.poolSize) });
  // An idle client losing its connection must not crash the process.
  pool.on("error", () => {});
  return {
    capabilities,
    dialect: new PostgresDialect({ pool }),
    describe: `postgres at ${target.host}:${target.port}/${target.database}`,
    async probe() {
      const client = new pg.Client(clientConfig);
      client.on("error", () => {});
      try {
        await client.connect();
        await client.query("select 1");
      } finally {
        await client.end().catch(() => {});
      }
    },
    createLogWaker: () => createPostgresLogWaker(clientConfig, capabilities.logPollMs),
  };
}
