import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { pack } from "tar-stream";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import { Secret } from "../../../libs/secret/secret.js";
import { createBuildLifecycle, type LifecycleEvent } from "../../../services/builder/build-lifecycle.js";
import type { BuildJob, ImageBuilder } from "../../../services/builder/image-builder.js";
import { modesUnderTest, type FakeScript, type ModeUnderTest } from "./mode-fakes.js";

/**
 * The contract every builder mode keeps, run over each mode with fakes of
 * what it depends on (an engine and a builder node in memory, the stand-in
 * Kubernetes API of test/kube with a scripted executor): the same cases,
 * the same codes and messages, whichever mode runs.
 */

const target: RegistryTarget = { url: "reg.test:5000", project: "p", type: "", insecure: true, username: "", password: undefined, caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: "" };
let script: FakeScript = { lines: [], digest: "" };
const digestA = `sha256:${"a".repeat(64)}`;
const digestB = `sha256:${"b".repeat(64)}`;

function context(): Readable {
  const p = pack();
  p.entry({ name: "Dockerfile", mode: 0o644 }, "FROM local/busybox:1\nRUN true\n");
  p.entry({ name: "hello.txt", mode: 0o644 }, "hello\n");
  p.finalize();
  return p as unknown as Readable;
}

let n = 0;
function job(mode: ModeUnderTest, extra: Partial<BuildJob> = {}): BuildJob {
  const buildId = `b_contract_${++n}`;
  return {
    buildId,
    name: "cli-contract:0123456789abcdef",
    reference: mode.module.capabilities.needsRegistry ? "reg.test:5000/p/cli-contract:0123456789abcdef" : "cli-contract:0123456789abcdef",
    imageKey: "k",
    appId: "contract",
    containerfile: "Dockerfile",
    args: [],
    target: "",
    platform: "",
    labels: { "buildplane.app": "contract", "org.opencontainers.image.revision": "0123abc" },
    registry: mode.module.capabilities.needsRegistry ? target : undefined,
    context: context(),
    contextBytes: undefined,
    timeoutSecs: 30,
    ...extra,
  };
}

function builderOf(mode: ModeUnderTest): ImageBuilder {
  assert.ok(mode.builder, `the ${mode.module.kind} mode has a builder over its fakes`);
  return mode.builder;
}

function lifecycleOf(mode: ModeUnderTest) {
  return createBuildLifecycle({ builder: builderOf(mode), capabilities: mode.module.capabilities, slots: mode.slots });
}

/** Resolves once `check` holds, polling every 50 ms; fails after 60 s. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > until) assert.fail(`still not true after 60 s: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function rejectsWith(code: string, message: string | RegExp) {
  return (e: unknown): boolean => {
    assert.equal((e as { code?: string }).code, code, String(e));
    if (typeof message === "string") assert.equal((e as Error).message, message);
    else assert.match((e as Error).message, message);
    return true;
  };
}

const underTest = await modesUnderTest(() => script);
after(() => underTest.close());

for (const mode of underTest.modes) {
  const kind = mode.module.kind;
  describe(`the ${kind} mode`, () => {
    it("refuses a request its capabilities rule out with failedPrecondition before it takes a slot or reaches its backend", async () => {
      const caps = mode.module.capabilities;
      const refused = !caps.secretArgs
        ? { job: job(mode, { args: [{ name: "TOKEN", value: new Secret("s3cr3t") }] }), message: `secret build arg TOKEN is not supported by the ${kind} mode: docker and podman record build arg values in the image history` }
        : { job: job(mode, { registry: undefined }), message: "" };
      const message = refused.message || `build "${refused.job.buildId}" has no registry: the ${kind} mode pushes to a registry, set [registry] url`;
      const events: LifecycleEvent[] = [];
      await assert.rejects(lifecycleOf(mode).run(refused.job, (e) => events.push(e), new AbortController().signal), rejectsWith("failedPrecondition", message));
      assert.deepEqual(events, [], "no queue position, no start");
      assert.equal(mode.seen.builds, 0, "the backend was never reached");
      assert.deepEqual([mode.slots.running, mode.slots.queued], [0, 0], "no slot was taken");
      assert.equal(mode.leftovers(), 0, "nothing was created in the backend");
    });

    it("streams the backend's log lines, in order and before the outcome, and hands it the whole context and the build's labels", async () => {
      script = { lines: ["step 1", "step 2"], digest: digestA };
      mode.registryDigest = digestA;
      const events: LifecycleEvent[] = [];
      const outcome = await lifecycleOf(mode).run(job(mode), (e) => events.push(e), new AbortController().signal);
      const logs = events.flatMap((e) => (e.type === "log" && e.stream === "stdout" ? [e.text] : []));
      assert.deepEqual(logs, ["step 1", "step 2"]);
      assert.equal(events[0]?.type, "started");
      assert.ok(mode.seen.contextBytes >= 2048, "the confined context reached the backend");
      assert.deepEqual(mode.seen.labels, { "buildplane.app": "contract", "org.opencontainers.image.revision": "0123abc" }, "the build's labels reach the image");
      assert.ok(outcome.digest !== "");
      assert.deepEqual([mode.slots.running, mode.slots.queued], [0, 0], "the slot was given back");
      await eventually(() => mode.leftovers() === 0, "the backend holds nothing of the build");
    });

    it("replaces the configuration's secrets and the job's registry password by *** in every log line", async () => {
      script = { lines: ["token config-token-1234 used", "login with registry-pass-5678", "plain line"], digest: digestA };
      mode.registryDigest = digestA;
      const events: LifecycleEvent[] = [];
      const withPassword = mode.module.capabilities.needsRegistry ? { registry: { ...target, password: new Secret("registry-pass-5678") } } : {};
      const lifecycle = createBuildLifecycle({ builder: builderOf(mode), capabilities: mode.module.capabilities, slots: mode.slots, knownSecrets: ["config-token-1234", "registry-pass-5678"] });
      await lifecycle.run(job(mode, withPassword), (e) => events.push(e), new AbortController().signal);
      const logs = events.flatMap((e) => (e.type === "log" && e.stream === "stdout" ? [e.text] : []));
      assert.deepEqual(logs, ["token *** used", "login with ***", "plain line"]);
    });

    it("stops the backend when the caller goes away and fails with canceled, worded once", async () => {
      script = { lines: ["started"], hang: true, digest: digestA };
      mode.seen.aborted = false;
      const caller = new AbortController();
      const j = job(mode);
      // The caller leaves once the backend printed its first line.
      const run = lifecycleOf(mode).run(j, (e) => (e.type === "log" && e.stream === "stdout" ? caller.abort() : undefined), caller.signal);
      await assert.rejects(run, rejectsWith("canceled", `build ${j.buildId} was canceled`));
      await eventually(() => mode.seen.aborted, "the backend saw the abort");
      await eventually(() => mode.leftovers() === 0, "the backend holds nothing of the build");
    });

    it("stops the backend at the job's own deadline and fails with deadlineExceeded naming it", async () => {
      script = { lines: [], hang: true, digest: digestA };
      mode.seen.aborted = false;
      const before = mode.seen.builds;
      const j = job(mode, { timeoutSecs: 2 });
      await assert.rejects(lifecycleOf(mode).run(j, () => undefined, new AbortController().signal),
        rejectsWith("deadlineExceeded", `build ${j.buildId} timed out after 2s (builder.build_timeout_secs) and was stopped`));
      // On a loaded machine kaniko's pod may not have run yet at the deadline: then nothing of it may be left either.
      if (mode.seen.builds > before) await eventually(() => mode.seen.aborted, "the backend saw the abort");
      await eventually(() => mode.leftovers() === 0, "the backend holds nothing of the build");
    });

    if (!mode.module.capabilities.verifiesPush) return;

    it("fails with dataLoss when the registry holds another digest than the backend reported", async () => {
      script = { lines: [], digest: digestA };
      mode.registryDigest = digestB;
      const j = job(mode);
      await assert.rejects(lifecycleOf(mode).run(j, () => undefined, new AbortController().signal),
        rejectsWith("dataLoss", new RegExp(`reported ${j.reference.replaceAll(".", "\\.")} as ${digestA} but the registry has ${digestB}$`)));
    });

    it("fails with dataLoss when the registry does not hold the reported push", async () => {
      script = { lines: [], digest: digestA };
      mode.registryDigest = undefined;
      const j = job(mode);
      await assert.rejects(lifecycleOf(mode).run(j, () => undefined, new AbortController().signal),
        rejectsWith("dataLoss", new RegExp(`reported pushing ${j.reference.replaceAll(".", "\\.")} \\(${digestA}\\) but the registry has no such manifest$`)));
    });
  });
}
