import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiException, BatchV1Api, CoreV1Api } from "@kubernetes/client-node";
import { newNameSuffix } from "../../services/builder/kaniko/kaniko-names.js";
import { resolveKanikoOptions } from "../../services/builder/kaniko/kaniko-options.js";
import { planKanikoBuild, type KanikoPlanInput } from "../../services/builder/kaniko/kaniko-plan.js";
import { sweepLeftovers } from "../../services/builder/kaniko/kaniko-sweeper.js";
import { startTestApiServer, type TestApiServer } from "./test-api-server.js";

const options = resolveKanikoOptions({ namespace: "builds", kanikoImage: "kaniko-test/executor:1", nodeSelector: { never: "scheduled" } });

function input(buildId: string): KanikoPlanInput {
  return {
    buildId, name: "cli-app:0123456789abcdef", reference: "127.0.0.1:1/cli-app:0123456789abcdef", imageKey: "k", appId: "app",
    containerfile: "Containerfile", args: [], target: "", platform: "", labels: {}, timeoutSecs: 1800,
    registry: { url: "127.0.0.1:1", project: "", type: "", insecure: true, username: "", password: undefined, caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: "" },
  };
}

/** Creates a build's objects the way a main install does, then "crashes" (never cleans up). */
async function leaveBuild(api: TestApiServer, buildId: string): Promise<void> {
  const plan = planKanikoBuild(input(buildId), options, newNameSuffix());
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const batch = api.kubeConfig().makeApiClient(BatchV1Api);
  for (const s of plan.secrets) await core.createNamespacedSecret({ namespace: "builds", body: s });
  await batch.createNamespacedJob({ namespace: "builds", body: plan.job });
}

test("with a stand-in Kubernetes API server, the sweeper removes the leftovers of builds whose lease is gone and keeps live ones", async () => {
  const api = await startTestApiServer();
  try {
    await leaveBuild(api, "crashed-1");
    await leaveBuild(api, "alive-1");
    await new Promise((r) => setTimeout(r, 50)); // the Job controller makes the pods
    assert.equal(api.store.count("pods", "builds"), 2);
    const removed = await sweepLeftovers({ kubeConfig: api.kubeConfig(), namespace: "builds" }, (id) => id === "alive-1");
    assert.equal(removed.jobs.length, 1);
    assert.equal(removed.secrets.length, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(api.store.count("jobs", "builds"), 1);
    assert.equal(api.store.count("pods", "builds"), 1);
    assert.equal(api.store.count("secrets", "builds"), 1);
    assert.equal(api.store.list("jobs", "builds", null)[0]?.metadata?.annotations?.["buildplane.dev/build-id"], "alive-1");
  } finally {
    await api.close();
  }
});

test("the stand-in Kubernetes API server answers with Status objects: 404 NotFound, 409 AlreadyExists, 422 Invalid", async () => {
  const api = await startTestApiServer();
  try {
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const batch = api.kubeConfig().makeApiClient(BatchV1Api);
    const status = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      assert.ok(e instanceof ApiException);
      return { code: e.code, body: (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as { kind: string; reason: string; message: string } };
    };
    const missing = await status(batch.readNamespacedJob({ name: "nope", namespace: "builds" }));
    assert.deepEqual([missing.code, missing.body.kind, missing.body.reason, missing.body.message], [404, "Status", "NotFound", 'jobs.batch "nope" not found']);
    const body = { metadata: { name: "s1" }, type: "Opaque", data: { a: "YQ==" } };
    await core.createNamespacedSecret({ namespace: "builds", body });
    const dup = await status(core.createNamespacedSecret({ namespace: "builds", body }));
    assert.deepEqual([dup.code, dup.body.reason, dup.body.message], [409, "AlreadyExists", 'secrets "s1" already exists']);
    const plan = planKanikoBuild(input("b"), options, newNameSuffix());
    const bad = structuredClone(plan.job);
    (bad.spec as { backoffLimit: unknown }).backoffLimit = "zero";
    const inv = await status(batch.createNamespacedJob({ namespace: "builds", body: bad }));
    assert.equal(inv.code, 422);
    assert.equal(inv.body.reason, "Invalid");
    assert.match(inv.body.message, /is invalid: .*backoffLimit must be integer/);
  } finally {
    await api.close();
  }
});

test("the stand-in Kubernetes API server orphans a Job's pods when no propagation policy is given, as the real API does", async () => {
  const api = await startTestApiServer();
  try {
    await leaveBuild(api, "orphan-1");
    await new Promise((r) => setTimeout(r, 50));
    const name = api.store.list("jobs", "builds", null)[0]?.metadata?.name ?? "";
    await api.kubeConfig().makeApiClient(BatchV1Api).deleteNamespacedJob({ name, namespace: "builds" });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(api.store.count("jobs", "builds"), 0);
    assert.equal(api.store.count("pods", "builds"), 1);
    assert.deepEqual(api.store.list("pods", "builds", null)[0]?.metadata?.ownerReferences, []);
  } finally {
    await api.close();
  }
});
