import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

/**
 * A ConfigMap volume as kubelet writes it: the data in a timestamped folder,
 * `..data` a symlink to it, the file a symlink through `..data`; an update
 * writes a new folder, points `..data_tmp` at it, renames `..data_tmp` over
 * `..data` and removes the old folder.
 */
function configMapVolume(root: string, text: string): { update(text: string): void } {
  mkdirSync(root);
  let n = 0;
  const writeVersion = (t: string): string => {
    const version = `..2026_12_05_13_00_00.${String(++n).padStart(9, "0")}`;
    mkdirSync(join(root, version));
    writeFileSync(join(root, version, "buildplane.toml"), t);
    return version;
  };
  let current = writeVersion(text);
  symlinkSync(current, join(root, "..data"));
  symlinkSync("..data/buildplane.toml", join(root, "buildplane.toml"));
  return {
    update(t) {
      const next = writeVersion(t);
      symlinkSync(next, join(root, "..data_tmp"));
      renameSync(join(root, "..data_tmp"), join(root, "..data"));
      rmSync(join(root, current), { recursive: true });
      current = next;
    },
  };
}

test("a ConfigMap volume updated by kubelet's ..data symlink swap is reloaded, each time", async () => {
  const root = join(dir, "configmap");
  const volume = configMapVolume(root, '[kubernetes]\nnamespace = "one"\n');
  const ac = new AbortController();
  after(() => ac.abort());
  const source = openConfigSource({ file: join(root, "buildplane.toml"), env: {}, signal: ac.signal, debounceMs: 20 });
  assert.equal(source.current().kubernetes.namespace, "one");
  for (const namespace of ["two", "three"]) {
    const next = nextUpdate(source);
    volume.update(`[kubernetes]\nnamespace = "${namespace}"\n`);
    const update = await next;
    assert.deepEqual(update.rejected, []);
    assert.equal(update.config.kubernetes.namespace, namespace);
    assert.equal(source.current().kubernetes.namespace, namespace);
  }
});
