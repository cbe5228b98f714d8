import pg from "pg";
import { sql } from "kysely";
import type { LogWaker } from "../db-bundle.js";
import { createLocalWaiters } from "../local-waiters.js";

/** The channel writers notify with a build id as payload. */
export const logChannel = "buildplane_build_logs";

/**
 * Wakes followers through LISTEN/NOTIFY on one dedicated connection, opened
 * on the first wait. When that connection fails, followers still poll every
 * `pollMs`, and it is reopened on a later wait: no line is lost either way.
 */
export function createPostgresLogWaker(config: pg.ClientConfig, pollMs: number): LogWaker {
  const local = createLocalWaiters();
  let listener: Promise<pg.Client | undefined> | undefined;
  let closed = false;

  const listen = (): Promise<pg.Client | undefined> => {
    listener ??= (async () => {
      const client = new pg.Client(config);
      const drop = (): void => {
        listener = undefined;
        void client.end().catch(() => {});
      };
      client.on("error", drop);
      client.on("end", () => (listener = undefined));
      client.on("notification", (msg) => {
        if (msg.channel === logChannel && msg.payload) local.wake(msg.payload);
      });
      try {
        await client.connect();
        await client.query(`listen ${logChannel}`);
        if (closed) drop();
        return client;
      } catch {
        drop();
        return undefined;
      }
    })();
    return listener;
  };

  return {
    async announce(trx, buildId) {
      await sql`select pg_notify(${logChannel}, ${buildId})`.execute(trx);
    },
    wakeLocal: (id) => local.wake(id),
    async wait(id, signal) {
      if (!closed) await listen();
      await local.wait(id, pollMs, signal);
    },
    async close() {
      closed = true;
      const client = await listener;
      listener = undefined;
      await client?.end().catch(() => {});
    },
  };
}
