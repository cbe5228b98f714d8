import assert from "node:assert/strict";
import { test } from "node:test";
import { describeDbTarget, parseDbConnection } from "./connection-string.js";
import { InvalidDbConnectionError } from "./errors.js";

test("parses a sqlite path and a postgres url with default port", () => {
  assert.deepEqual(parseDbConnection("sqlite:/var/lib/bp/meta.db"), { kind: "sqlite", path: "/var/lib/bp/meta.db" });
  const pg = parseDbConnection("postgres://bp:pw@db.internal/buildplane");
  assert.equal(describeDbTarget(pg), "postgres at db.internal:5432/buildplane");
  assert.equal(describeDbTarget(parseDbConnection("postgresql://h:6543")), "postgres at h:6543/postgres");
});

test("refuses other schemes without showing the password", () => {
  assert.throws(
    () => parseDbConnection("mysql://app:s3cret@db/bp"),
    (err: unknown) => {
      assert.ok(err instanceof InvalidDbConnectionError);
      assert.equal(err.code, "invalidArgument");
      assert.equal(err.message, `metadata.db_connection "mysql://app:***@db/bp" is not valid: expected sqlite:<path> or postgres://…`);
      return true;
    },
  );
  assert.throws(() => parseDbConnection("sqlite:"), { message: `metadata.db_connection "sqlite:" is not valid: expected sqlite:<path>` });
});
