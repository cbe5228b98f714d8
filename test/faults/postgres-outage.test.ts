import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { freePort } from "../helpers/free-port.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { containersWith, eventually, makeAppRepo, removeImages } from "../e2e/app-fixture.js";
import { runCommand } from "../helpers/run-command.js";
import { cliEnv, describeRun, listBuilds, startCli } from "../e2e/cli-process.js";
import { startServe, type ServeProcess } from "../rpc/serve-process.js";
import { startPostgresProxy } from "../metadata/postgres-proxy.js";
import { testDialects, type TestDatabase } from "../metadata/test-databases.js";
import type { TestGitRepo } from "../helpers/make-git-repo.js";
import pg from "pg";
import { logTexts, missingFrom, storedLog } from "./fault-kit.js";

const budgetSecs = 15;
const limit = { timeout: 240_000 };
const postgres = testDialects.find((d) => d.name === "postgres");

describe("PostgreSQL unavailable mid-build (a TCP proxy in front of 127.0.0.1:5432, cut and restored)", () => {
  let db: TestDatabase;
  let port: number;
  let proxy: { close(): Promise<void> } | undefined;
  let server: ServeProcess;
  let env: NodeJS.ProcessEnv;
  let data: TempDir;
  let client: TempDir;
  const repos: Array<TestGitRepo & { readonly nonce: string }> = [];
  const images: string[] = [];
  const repo = async (steps: string) => {
    const r = await makeAppRepo();
    await r.commitFiles({ "app/Containerfile": `FROM local/busybox:1\nRUN echo begin-${r.nonce} && ${steps} && echo end-${r.nonce}\n` });
    repos.push(r);
    return r;
  };
  const cut = async () => {
    await proxy?.close();
    proxy = undefined;
  };
  const restore = async () => {
    proxy = await startPostgresProxy(port);
  };
  before(async () => {
    assert.ok(postgres);
    db = await postgres.create();
    port = await freePort();
    await restore();
    data = await tempDir("buildplane-fault-pg-");
    client = await tempDir("buildplane-fault-client-");
    env = cliEnv(data.path, {
      BUILDPLANE_METADATA_DB_CONNECTION: db.dbConnection.replace("127.0.0.1:5432", `127.0.0.1:${port}`),
      BUILDPLANE_METADATA_OUTAGE_BUDGET_SECS: String(budgetSecs),
      BUILDPLANE_SOURCE_LOCAL_ROOTS: "/tmp",
    });
    server = await startServe([], env);
  });
  after(async () => {
    server?.kill();
    await server?.exited;
    await proxy?.close();
    await removeImages("docker", images);
    for (const r of repos) for (const id of await containersWith(`begin-${r.nonce}`)) await runCommand("docker", ["rm", "--force", id]).catch(() => undefined);
    for (const r of repos) await r.remove();
    await db?.drop();
    await data?.remove();
    await client?.remove();
  });

  const build = (r: TestGitRepo) => startCli(["build", r.url, "--dir", "app", "--json", "--server", server.url], cliEnv(client.path));

  test("an outage shorter than the budget: lines are buffered, and the outcome and every line are written when the database is back", limit, async () => {
    const r = await repo("sleep 4 && echo middle && sleep 2");
    const caller = build(r);
    await caller.waitFor((e) => e.type === "log" && e["text"] === `begin-${r.nonce}`);
    await cut();
    await caller.waitFor((e) => e.type === "log" && e["text"] === `end-${r.nonce}`);
    assert.equal(caller.child.exitCode, null, "the caller waits for the outcome to be written");
    await restore();
    const done = await caller.done;
    assert.equal(done.code, 0, describeRun(done));
    assert.equal(done.last?.type, "ready", describeRun(done));
    images.push(String(done.last["image"]));

    const [record] = await listBuilds(env);
    assert.ok(record);
    assert.equal(record.id, done.last["buildId"]);
    assert.equal(record.status, "succeeded");
    assert.notEqual(record.digest, "");
    const stored = await storedLog(env, record.id);
    assert.deepEqual(missingFrom(stored, logTexts(done.events)), []);
    assert.ok(stored.includes("middle") && stored.includes(`end-${r.nonce}`), "lines logged during the outage are stored");
  });

  test("an outage longer than the budget: the caller gets unavailable, and the record says why once the database is back", limit, async () => {
    const r = await repo("sleep 300");
    const caller = build(r);
    await caller.waitFor((e) => e.type === "log" && e["text"] === `begin-${r.nonce}`);
    const cutAt = Date.now();
    await cut();
    const done = await caller.done;
    const waited = Date.now() - cutAt;
    await restore();
    assert.equal(done.code, 1, describeRun(done));
    assert.equal(done.last?.type, "failed", describeRun(done));
    assert.equal(done.last["code"], "unavailable", describeRun(done));
    assert.match(String(done.last["message"]), /metadata database/, describeRun(done));
    assert.ok(waited >= budgetSecs * 1000, `the build rode out the outage for the budget (${waited} ms)`);

    const buildId = String(done.events.find((e) => e.type === "started")?.["buildId"]);
    // The outcome is written once the database is back, not left running until the lease expires.
    const final = async () => (await listBuilds(env)).find((x) => x.id === buildId);
    assert.ok(await eventually(async () => (await final())?.status !== "running", 30_000), "the record became final");
    const record = await final();
    assert.ok(record);
    assert.equal(record.status, "failed", JSON.stringify(record));
    assert.equal(record.errorCode, "unavailable");
    assert.equal(record.errorMessage, done.last["message"]);
    const stored = await storedLog(env, buildId);
    assert.deepEqual(missingFrom(stored, logTexts(done.events)), []);

    // The holder gave its lease back once the database was back (a released lease has
    // expires_at 0; one left to expire keeps its time), so the next request builds at once.
    const leases = async () => {
      const conn = new pg.Client({ connectionString: db.dbConnection });
      await conn.connect();
      try {
        return (await conn.query<{ key: string; expires_at: string }>("select key, expires_at from leases")).rows;
      } finally {
        await conn.end();
      }
    };
    assert.ok(await eventually(async () => (await leases()).every((l) => Number(l.expires_at) === 0), 20_000), "the lease was released");
    assert.ok((await leases()).length > 0, "the build took a lease");
  });

  test("an outage longer than the budget under a one-shot `buildplane build` (no --server): it answers unavailable and exits while the database is still away", limit, async (t) => {
    const r = await repo("sleep 300");
    const own = await tempDir("buildplane-fault-oneshot-");
    t.after(() => own.remove());
    const caller = startCli(["build", r.url, "--dir", "app", "--json"], cliEnv(own.path, {
      BUILDPLANE_METADATA_DB_CONNECTION: db.dbConnection.replace("127.0.0.1:5432", `127.0.0.1:${port}`),
      BUILDPLANE_METADATA_OUTAGE_BUDGET_SECS: String(budgetSecs),
    }));
    // A process still waiting when the test ends (the failure this test looks for) is not left behind.
    t.after(() => void caller.child.kill("SIGKILL"));
    await caller.waitFor((e) => e.type === "log" && e["text"] === `begin-${r.nonce}`);
    await cut();
    // Restored only after the process is gone: its outcome and lease are still waiting for the database.
    const done = await caller.done;
    await restore();
    assert.equal(done.code, 1, describeRun(done));
    assert.equal(done.last?.type, "failed", describeRun(done));
    assert.equal(done.last["code"], "unavailable", describeRun(done));
    assert.match(String(done.last["message"]), /metadata database/, describeRun(done));
    assert.match(
      done.stderr,
      /buildplane: 5 s after the answer, the build has not finished storing its outcome and releasing its lease \(the metadata database may be away\): exiting without waiting for them/,
      describeRun(done),
    );
  });
});
