import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { cliPath, ensureBuilt } from "../test/helpers/ensure-built.js";
import { loadedModules } from "../test/helpers/loaded-modules.js";
import { tempDir, type TempDir } from "../test/helpers/temp-dir.js";

const recorder = fileURLToPath(new URL("../test/helpers/module-recorder.mjs", import.meta.url));
const rootUrl = new URL("../", import.meta.url).href;
const distUrl = new URL("../dist/", import.meta.url).href;
const bundleUrl = `${distUrl}cli/`;

/** Libraries a command loads only when it does real work: RPC, protobuf, databases, engines, Kubernetes, git, spinners. */
const heavy = ["@connectrpc/", "@bufbuild/protobuf", "kysely", "better-sqlite3", "pg", "dockerode", "@kubernetes/client-node", "simple-git", "@aws-sdk/", "ora", "pino"];

interface Recorded {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every module the process loaded: ES module URLs and CommonJS paths. */
  readonly modules: readonly string[];
  /**
   * The npm packages among them, by name: loaded from node_modules, or
   * bundled into a file of dist/cli/ that was loaded (dist/cli/meta.json
   * names each output's inputs).
   */
  readonly packages: ReadonlySet<string>;
}

let dir: TempDir;
let run = 0;

/** Runs `node bin/buildplane.js args…` without NODE_OPTIONS, recording every module it loads. */
function recordRun(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Recorded> {
  const file = join(dir.path, `modules-${++run}.txt`);
  writeFileSync(file, "");
  const env = { PATH: process.env["PATH"] ?? "", HOME: dir.path, NO_COLOR: "1", MODULE_RECORDER_FILE: file, ...extraEnv };
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", recorder, cliPath, ...args], { env }, (err, stdout, stderr) => {
      const modules = [...new Set(readFileSync(file, "utf8").split("\n").filter((l) => l !== ""))];
      const { packages } = loadedModules(modules);
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr, modules, packages });
    });
  });
}

const loadedHeavy = (r: Recorded): string[] => [...r.packages].filter((p) => heavy.some((h) => (h.endsWith("/") ? p.startsWith(h) : p === h)));

describe("the compiled command line", () => {
  before(async () => {
    ensureBuilt();
    dir = await tempDir("bp-compiled-cli-");
  });
  after(() => dir.remove());

  test("runs the bundled JavaScript in dist/cli/ and loads no TypeScript file and no tsx module, even for a command that opens the database", async () => {
    const config = join(dir.path, "buildplane.toml");
    writeFileSync(config, `[metadata]\ndb_connection = "sqlite:${join(dir.path, "metadata.db")}"\n`);
    const r = await recordRun(["builds", "list", "--json", "--config", config]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "[]");
    assert.ok(r.modules.includes(`${bundleUrl}buildplane.js`), "the bundled entry point ran");
    assert.ok(r.packages.has("kysely") && r.packages.has("@connectrpc/connect"), `the recorder sees the libraries a real command loads: ${[...r.packages].join(", ")}`);
    assert.deepEqual(r.modules.filter((m) => /\.[cm]?ts$/.test(m) || m.includes("/node_modules/tsx/")), []);
    // Every RPC call makes a Fetch `Headers`: the bundle's own class, not Node's, which would load all of undici.
    assert.ok(r.modules.includes("builtin:internal/url"), `the recorder sees Node's own modules: ${r.modules.filter((m) => m.startsWith("builtin:")).length}`);
    assert.deepEqual(r.modules.filter((m) => m.includes("undici")), []);
    const ours = r.modules.filter((m) => m.startsWith(rootUrl) && !m.startsWith(`${rootUrl}node_modules/`) && !m.endsWith("/module-recorder.mjs"));
    assert.deepEqual(ours.filter((m) => !m.startsWith(bundleUrl)), [`${rootUrl}bin/buildplane.js`], "only the entry point runs from outside dist/cli/");
    // Unbundled, the command would read most of the compiled modules; bundled, a few chunks.
    const compiled = readdirSync(fileURLToPath(distUrl), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".js") && !f.startsWith("cli/") && !f.startsWith("web/")).length;
    assert.ok(compiled > 200, `dist/ holds the compiled modules: ${compiled}`);
    assert.ok(ours.length < compiled / 5, `a command reads a few bundled files, not every module: ${ours.length} files of ${compiled} compiled modules`);
  });

  for (const args of [["--help"], ["--version"], ["build", "--help"], ["builds", "list", "--help"], ["serve", "--help"], ["config", "show", "--help"]]) {
    test(`buildplane ${args.join(" ")} loads commander and none of the RPC, database, engine, Kubernetes or git libraries`, async () => {
      const r = await recordRun(args);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.packages.has("commander"), `the recorder sees the packages loaded: ${[...r.packages].join(", ")}`);
      assert.deepEqual(loadedHeavy(r), []);
    });
  }

  test("says how to build dist/ when it is missing, and exits 1", async () => {
    const bare = join(dir.path, "bare");
    mkdirSync(join(bare, "bin"), { recursive: true });
    copyFileSync(cliPath, join(bare, "bin", "buildplane.js"));
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(bare, "bin", "buildplane.js"), "--help"], (err, _stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stderr });
      });
    });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `buildplane: ${join(bare, "dist", "cli", "buildplane.js")} does not exist: run \`npm run build\` (or \`npm ci\`) in ${bare}/ first\n`);
  });
});
