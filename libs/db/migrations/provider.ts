import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./0001-initial.js";
import * as installSecrets from "./0002-install-secrets.js";
import * as buildSpec from "./0003-build-spec.js";
import * as lifecycle from "./0004-lifecycle.js";
import * as collectionFeed from "./0005-collection-feed.js";

/**
 * Every migration, in order, compiled into the program: no folder scan at
 * run time, so a bundled or installed buildplane migrates the same way.
 */
export function createMigrationProvider(): MigrationProvider {
  const migrations: Record<string, Migration> = {
    "0001-initial": initial,
    "0002-install-secrets": installSecrets,
    "0003-build-spec": buildSpec,
    "0004-lifecycle": lifecycle,
    "0005-collection-feed": collectionFeed,
  };
  return { getMigrations: async () => migrations };
}
