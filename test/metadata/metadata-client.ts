import { after, before } from "node:test";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { openDatabase, type Database } from "../../libs/db/open-database.js";
import { createMetadataService } from "../../services/metadata/service.js";
import type { MetadataDeps } from "../../services/metadata/metadata-deps.js";
import { testDialects } from "./test-databases.js";

/** An in-memory MetadataService client over a real database. */
export interface MetadataHarness {
  readonly client: Client<typeof MetadataService>;
  readonly database: Database;
  readonly deps: MetadataDeps;
  close(): Promise<void>;
}

/** Opens `dbConnection` and serves MetadataService through `createRouterTransport`, errors mapped as in production. */
export async function startMetadataHarness(dbConnection: string, opts: { maxLogLinesPerBuild?: number } = {}): Promise<MetadataHarness> {
  const database = await openDatabase(dbConnection, { poolSize: 10 });
  const deps: MetadataDeps = { database: () => database, maxLogLinesPerBuild: opts.maxLogLinesPerBuild ?? 10_000 };
  const transport = createRouterTransport(({ service }) => service(MetadataService, createMetadataService(deps)), {
    router: { interceptors: [createErrorInterceptor(silentLogger)] },
  });
  return { client: createClient(MetadataService, transport), database, deps, close: () => database.close() };
}

/**
 * A harness over a fresh SQLite database for the enclosing `describe`:
 * opened before its tests, closed and dropped after them. Its fields read
 * the harness of the running suite.
 */
export function useSqliteMetadataHarness(): MetadataHarness {
  let harness: MetadataHarness | undefined;
  let drop: (() => Promise<void>) | undefined;
  before(async () => {
    const sqlite = testDialects.find((d) => d.name === "sqlite");
    if (sqlite === undefined) throw new Error("the sqlite test dialect is missing");
    const tdb = await sqlite.create();
    drop = () => tdb.drop();
    harness = await startMetadataHarness(tdb.dbConnection);
  });
  after(async () => {
    await harness?.close();
    await drop?.();
  });
  const current = (): MetadataHarness => {
    if (harness === undefined) throw new Error("the metadata harness is used outside its suite's tests");
    return harness;
  };
  return {
    get client() {
      return current().client;
    },
    get database() {
      return current().database;
    },
    get deps() {
      return current().deps;
    },
    close: () => current().close(),
  };
}
