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
 * replicas (polling stays as the fallback). Every connection is bounded in
 * time: `statement_timeout` and `idle_in_transaction_session_timeout` on the
 * server, `query_timeout` on the client (a server that stopped answering),
 * a connect timeout, and TCP keep-alive so a cut that sends no reset is
 * still noticed. A connection that fails, idle in the pool or checked out,
 * emits `error`, which is handled (the pool drops it and opens another later).
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
  const timeoutMs = Math.max(1, Math.floor(opts.statementTimeoutMs));
  const clientConfig: pg.ClientConfig = {
    connectionString: target.url,
    types: postgresTypes,
    connectionTimeoutMillis: Math.min(5000, timeoutMs),
    statement_timeout: timeoutMs,
    idle_in_transaction_session_timeout: timeoutMs,
    // The client-side bound leaves the server's own timeout the time to answer first.
    query_timeout: timeoutMs + 2000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  const pool = new pg.Pool({ ...clientConfig, max: Math.max(1, opts.poolSize) });
  // An idle client losing its connection must not crash the process.
  pool.on("error", () => {});
  // Nor a client checked out of the pool between two queries (pg emits
  // `error` on it with no listener of the pool's): its next query fails
  // instead, and the pool drops it when it comes back unqueryable.
  pool.on("connect", (client) => client.on("error", () => {}));
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
