import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { Secret } from "../../libs/secret/secret.js";
import type { BuildProgress } from "../../services/builder/image-builder.js";
import { createKanikoBuilder } from "../../services/builder/kaniko/kaniko-builder.js";
import { resolveKanikoOptions, type KanikoOptions } from "../../services/builder/kaniko/kaniko-options.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { buildJob, checkDigestIn } from "./kaniko-fixtures.js";
import type { KubeObject } from "./kube-store.js";
import { startTestApiServer, type TestApiServer } from "./test-api-server.js";

let reg: TestRegistry;
before(async () => { reg = await startRegistry({ htpasswd: true }); });
after(async () => { await reg.stop(); });

async function withServer(fn: (api: TestApiServer) => Promise<void>, opts: Parameters<typeof startTestApiServer>[0] = {}): Promise<void> {
  const api = await startTestApiServer(opts);
  try { await fn(api); } finally { await api.close(); }
}

function builder(api: TestApiServer, options: Partial<KanikoOptions> = {}) {
  return createKanikoBuilder({
    kubeConfig: api.kubeConfig(), checkDigest: (reference, _target, signal) => checkDigestIn(reg)(reference, signal),
    options: resolveKanikoOptions({ namespace: "builds", kanikoImage: "kaniko-test/executor:1", podStartTimeoutSecs: 30, ...options }),
  });
}

function leftovers(api: TestApiServer): number {
  return api.store.count("jobs", "builds") + api.store.count("pods", "builds") + api.store.count("secrets", "builds");
}

async function settle(api: TestApiServer): Promise<void> {
  await new Promise((r) => setImmediate(r)); // background garbage collection runs in the next tick
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(leftovers(api), 0, "no Job, pod or Secret is left");
}

function rejectsWith(code: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, String(e));
    assert.match((e as Error).message, pattern);
    return true;
  };
}

test("with a stand-in Kubernetes API server, a kaniko build pushes a real image to an authenticated registry, streams its log first and has its Secrets owned by its Job", async () => {
  await withServer(async (api) => {
    const specs: string[] = [];
    api.store.subscribe(undefined, (e) => specs.push(JSON.stringify(e.object)));
    const job = buildJob(reg, 'FROM local/busybox:1\nARG TOKEN\nARG PLAIN\nRUN echo "step-$PLAIN" && test "${TOKEN#tok-value-}" = "123"\n', {
      args: [{ name: "TOKEN", value: new Secret("tok-value-123") }, { name: "PLAIN", value: "visible" }],
    });
    const events: BuildProgress[] = [];
    // What the API server holds while the build runs: the Job and the Secrets' owner references.
    let during: { job: KubeObject[]; secrets: KubeObject[] } | undefined;
    const onProgress = (p: BuildProgress) => {
      events.push(p);
      if (p.type === "log" && p.stream === "system" && p.text.includes("sending the build context")) {
        during = { job: api.store.list("jobs", "builds", null), secrets: api.store.list("secrets", "builds", null) };
      }
    };
    const out = await builder(api).build(job, onProgress, new AbortController().signal);
    assert.equal(out.reference, job.reference);
    assert.match(out.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(out.digest, await checkDigestIn(reg)(job.reference, AbortSignal.timeout(5000)));
    const pushedAt = events.findIndex((e) => e.type === "pushed");
    const firstLog = events.findIndex((e) => e.type === "log" && e.stream === "stdout" && e.text.includes("step-visible"));
    assert.ok(firstLog >= 0 && firstLog < pushedAt, "log lines arrive before the outcome");
    const jobSpecs = specs.filter((s) => s.includes('"kind":"Job"') || s.includes('"kind":"Pod"'));
    assert.ok(jobSpecs.length > 0);
    for (const s of jobSpecs) assert.ok(!s.includes("tok-value-123"), "the secret arg never appears in a Job or pod");
    assert.ok(!JSON.stringify(events).includes("tok-value-123"), "nor in the log");
    const [made] = during?.job ?? [];
    assert.equal(during?.job.length, 1);
    assert.match(made?.metadata?.uid ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(during?.secrets.length, 2, "the docker config and the secret args");
    for (const s of during?.secrets ?? []) {
      assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: "batch/v1", kind: "Job", name: made?.metadata?.name, uid: made?.metadata?.uid, blockOwnerDeletion: true, controller: false }],
        `Secret ${s.metadata?.name} is owned by the Job, so the garbage collector removes it with the Job`);
    }
    await settle(api);
  });
});

test("with a stand-in Kubernetes API server, a failing RUN fails the build with the log tail and removes the Job", async () => {
  await withServer(async (api) => {
    const job = buildJob(reg, "FROM local/busybox:1\nRUN echo about-to-fail && exit 3\n");
    await assert.rejects(builder(api).build(job, () => undefined, new AbortController().signal),
      rejectsWith("failedPrecondition", /^kaniko job "bp-cli-kanikotest-[a-z0-9]+" failed: exit code 1\n[\s\S]*about-to-fail[\s\S]*returned a non-zero code: 3/));
    await settle(api);
  });
});

test("with a stand-in Kubernetes API server, the push uses only the credentials of the mounted config.json", async () => {
  await withServer(async (api) => {
    const job = buildJob(reg, "FROM local/busybox:1\nRUN echo wrong-password\n", { password: "not-the-password" });
    await assert.rejects(builder(api).build(job, () => undefined, new AbortController().signal),
      rejectsWith("failedPrecondition", /error pushing image: failed to push to destination .*(unauthorized|authentication required)/));
    await settle(api);
  });
});

test("with a stand-in Kubernetes API server, an unpullable kaniko image is reported by its reason", async () => {
  await withServer(async (api) => {
    const job = buildJob(reg, "FROM local/busybox:1\n");
    await assert.rejects(builder(api, { kanikoImage: "test/unpullable:1" }).build(job, () => undefined, new AbortController().signal),
      rejectsWith("unavailable", /^kaniko pod "bp-cli-kanikotest-[a-z0-9]+-[a-z0-9]{5}" did not start: ErrImagePull: failed to pull and unpack image "test\/unpullable:1"/));
    await settle(api);
  });
});

test("with a stand-in Kubernetes API server, a pod no node can take is reported as unschedulable", async () => {
  await withServer(async (api) => {
    const job = buildJob(reg, "FROM local/busybox:1\n");
    await assert.rejects(builder(api, { nodeSelector: { pool: "gpu" } }).build(job, () => undefined, new AbortController().signal),
      rejectsWith("failedPrecondition", /did not start: Unschedulable: 0\/1 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector/));
    await settle(api);
  });
});

test("with a stand-in Kubernetes API server, cancelling a build deletes its Job, pod and Secrets", async () => {
  await withServer(async (api) => {
    const job = buildJob(reg, "FROM local/busybox:1\nRUN echo started-sleeping && busybox sleep 60\n");
    const ac = new AbortController();
    const onProgress = (p: BuildProgress) => { if (p.type === "log" && p.text.includes("started-sleeping")) ac.abort(); };
    await assert.rejects(builder(api).build(job, onProgress, ac.signal), rejectsWith("canceled", /^build build-[0-9a-f]+ was canceled$/));
    await settle(api);
  });
});

test("with a stand-in Kubernetes API server, a build past its deadline fails with deadlineExceeded and leaves nothing", async () => {
  await withServer(async (api) => {
    const job = buildJob(reg, "FROM local/busybox:1\nRUN busybox sleep 60\n");
    await assert.rejects(builder(api).build({ ...job, timeoutSecs: 2 }, () => undefined, new AbortController().signal),
      rejectsWith("deadlineExceeded", /^kaniko job "bp-cli-kanikotest-[a-z0-9]+" exceeded its deadline of 2s$/));
    await settle(api);
  });
});

test("with a stand-in Kubernetes API server whose kubelet kills the container at the deadline (exit 137 reported before the pod goes, as on a real cluster), the build fails with deadlineExceeded", async () => {
  await withServer(async (api) => {
    const exits: number[] = [];
    api.store.subscribe(undefined, (e) => {
      const code = (e.object as V1Pod).status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
      if (e.resource === "pods" && e.type === "MODIFIED" && code !== undefined) exits.push(code);
    });
    const job = buildJob(reg, "FROM local/busybox:1\nRUN busybox sleep 60\n");
    await assert.rejects(builder(api).build({ ...job, timeoutSecs: 2 }, () => undefined, new AbortController().signal),
      rejectsWith("deadlineExceeded", /^kaniko job "bp-cli-kanikotest-[a-z0-9]+" exceeded its deadline of 2s$/));
    assert.deepEqual(exits, [137], "the container was reported killed, not the pod deleted outright");
    await settle(api);
  }, { deadline: "terminate" });
});

test("with a stand-in Kubernetes API server, a pod still ContainerCreating after pod_start_timeout_secs fails the build with unavailable naming the pod, and leaves nothing", async () => {
  await withServer(async (api) => {
    const job = buildJob(reg, "FROM local/busybox:1\n");
    await assert.rejects(builder(api, { kanikoImage: "test/pull-hangs:1", podStartTimeoutSecs: 1 }).build(job, () => undefined, new AbortController().signal),
      rejectsWith("unavailable", /^kaniko pod "bp-cli-kanikotest-[a-z0-9]+-[a-z0-9]{5}" did not start: StartTimeout: not running after 1s \(last state ContainerCreating\)$/));
    await settle(api);
  });
});

test("with a stand-in Kubernetes API server, two concurrent builds of different images do not collide", async () => {
  await withServer(async (api) => {
    const a = buildJob(reg, "FROM local/busybox:1\nRUN echo image-a > /a\n");
    const b = buildJob(reg, "FROM local/busybox:1\nRUN echo image-b > /b\n");
    const k = builder(api);
    const [ra, rb] = await Promise.all([k.build(a, () => undefined, new AbortController().signal), k.build(b, () => undefined, new AbortController().signal)]);
    assert.equal(ra.reference, a.reference);
    assert.equal(rb.reference, b.reference);
    assert.notEqual(ra.digest, rb.digest);
    await settle(api);
  });
});
