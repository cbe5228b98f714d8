import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { formatDiagnostic } from "./config-error.js";
import { openConfigSource, type ConfigSource, type ConfigUpdate } from "./config-source.js";

const dir = mkdtempSync(join(tmpdir(), "bp-watch-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function nextUpdate(source: ConfigSource): Promise<ConfigUpdate> {
  return new Promise((resolve) => {
    const off = source.subscribe((u) => {
      off();
      resolve(u);
    });
  });
}

test("a valid change replaces the config and an invalid one keeps it and is reported", async () => {
  const file = join(dir, "bp.toml");
  writeFileSync(file, "[http]\nport = 25222\n");
  const ac = new AbortController();
  after(() => ac.abort());
  const source = openConfigSource({ file, env: {}, signal: ac.signal, debounceMs: 20 });
  assert.equal(source.current().http.port, 25222);

  let next = nextUpdate(source);
  writeFileSync(file, "[http]\nport = 9000\n");
  const applied = await next;
  assert.deepEqual(applied.rejected, []);
  assert.equal(applied.config.http.port, 9000);
  assert.equal(source.current().http.port, 9000);

  next = nextUpdate(source);
  writeFileSync(file, '[http]\nport = "x"\n');
  const rejected = await next;
  assert.deepEqual(rejected.rejected.map(formatDiagnostic), [`${file}:2:1: http.port: "x" is not valid: expected an integer`]);
  assert.equal(rejected.config.http.port, 9000);
  assert.equal(source.current().http.port, 9000);
});

test("a file replaced by rename, as editors save, is reloaded", async () => {
  const file = join(dir, "renamed.toml");
  writeFileSync(file, "");
  const ac = new AbortController();
  after(() => ac.abort());
  const source = openConfigSource({ file, env: {}, signal: ac.signal, debounceMs: 20 });
  const next = nextUpdate(source);
  writeFileSync(`${file}.tmp`, '[kubernetes]\nnamespace = "builds"\n');
  renameSync(`${file}.tmp`, file);
  const update = await next;
  assert.deepEqual(update.rejected, []);
  assert.equal(update.config.kubernetes.namespace, "builds");
});
