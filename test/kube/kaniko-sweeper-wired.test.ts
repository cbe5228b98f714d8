import { test } from "node:test";
import assert from "node:assert/strict";
import { BatchV1Api, CoreV1Api } from "@kubernetes/client-node";
import { composeServices, type ComposedServices } from "../../app/compose-services.js";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import type { RpcLogger } from "../../libs/rpc/logger.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { kanikoOptionsFromConfig } from "../../services/builder/kaniko/kaniko-config.js";
import { newNameSuffix } from "../../services/builder/kaniko/kaniko-names.js";
import { resolveKanikoOptions } from "../../services/builder/kaniko/kaniko-options.js";
import { planKanikoBuild } from "../../services/builder/kaniko/kaniko-plan.js";
import { Secret } from "../../libs/secret/secret.js";
import { startRegistry } from "../helpers/start-registry.js";
import { tempDir } from "../helpers/temp-dir.js";
import { writeKanikoConfig, writeKubeconfig } from "./kube-cli.js";
import { startTestApiServer, type TestApiServer } from "./test-api-server.js";

const ns = "builds";
// Pods of the leftovers stay Pending (no node matches), so nothing really builds here.
const options = resolveKanikoOptions({ namespace: ns, kanikoImage: "kaniko-test/executor:1", nodeSelector: { never: "scheduled" } });

/** The objects a main install created for `buildId` before it crashed: the docker config and secret-args Secrets, then the Job. */
async function leaveBuild(api: TestApiServer, buildId: string, installId: string): Promise<string> {
  const plan = planKanikoBuild({
    buildId, name: "cli-app:0123456789abcdef", reference: "127.0.0.1:1/cli-app:0123456789abcdef", imageKey: "k", appId: "app",
    containerfile: "Containerfile", args: [{ name: "TOKEN", value: new Secret("t") }], target: "", platform: "", labels: {}, timeoutSecs: 1800,
    registry: { url: "127.0.0.1:1", project: "", type: "", insecure: true, username: "", password: undefined, caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: "" },
  }, { ...options, installId }, newNameSuffix());
  for (const s of plan.secrets) await api.kubeConfig().makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: ns, body: s });
  await api.kubeConfig().makeApiClient(BatchV1Api).createNamespacedJob({ namespace: ns, body: plan.job });
  return plan.jobName;
}

/** Resolves once the composed metadata service has its database. */
function serving(c: ComposedServices): Promise<void> {
  return new Promise((resolve) => {
    if (c.health.get(MetadataService.typeName) === "serving") return resolve();
    const off = c.health.subscribe((service, status) => {
      if (service === MetadataService.typeName && status === "serving") { off(); resolve(); }
    });
  });
}

function buildIdsIn(api: TestApiServer, resource: "jobs" | "secrets" | "pods"): string[] {
  return api.store.list(resource, ns, null).map((o) => o.metadata?.labels?.["buildplane.dev/build-id"] ?? "").sort();
}

/** Polls until `check` holds, at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("with a stand-in Kubernetes API server, the kaniko builder sweeps at start: leftovers of final, abandoned (lease lapsed) or unknown builds go, those of live builds stay", async () => {
  const api = await startTestApiServer();
  const reg = await startRegistry();
  const dir = await tempDir("buildplane-kube-sweep-");
  let composed: ComposedServices | undefined;
  try {
    const kubeconfig = await writeKubeconfig(api, dir.path, ns);
    const config = loadConfig({ file: await writeKanikoConfig({ dir: dir.path, kubeconfig, namespace: ns, registry: reg }), env: {} });

    // Build records in the install's metadata database, as a crashed main install left them.
    const records = composeServices({ config: staticConfigSource(config), services: ["config", "metadata"], log: silentLogger });
    await serving(records);
    const create = async (status: BuildStatus): Promise<string> => {
      const { build } = await records.clients.metadata.createBuild({ build: { imageKey: `key-${status}`, mode: "kaniko", status: BuildStatus.QUEUED } });
      const id = build?.id ?? "";
      if (status !== BuildStatus.QUEUED) await records.clients.metadata.updateBuild({ id, status });
      return id;
    };
    const queued = await create(BuildStatus.QUEUED);
    const running = await create(BuildStatus.RUNNING);
    const failed = await create(BuildStatus.FAILED);
    const canceled = await create(BuildStatus.CANCELED);
    // A build whose builder died: bound to its lease, which lapses; the lease reaper marks it abandoned.
    const imageKey = "key-lease-lapsed";
    const { lease } = await records.clients.metadata.acquireLease({ key: `build:${imageKey}`, holder: "crashed-main", ttlMs: 50 });
    const { build: bound } = await records.clients.metadata.createBuild({ build: { imageKey, mode: "kaniko", status: BuildStatus.RUNNING }, fencingToken: lease?.token ?? 0n });
    const abandoned = bound?.id ?? "";
    await until(async () => (await records.clients.metadata.getBuild({ id: abandoned })).build?.status === BuildStatus.ABANDONED, 15_000, "the lease reaper abandons the build");
    await records.close();
    const missing = "b_never_recorded";
    const installId = kanikoOptionsFromConfig(config).installId;
    const jobOf: Record<string, string> = {};
    for (const id of [queued, running, failed, canceled, abandoned, missing]) jobOf[id] = await leaveBuild(api, id, installId);
    // Another install's build, unknown to this install's records, is not this sweeper's to judge.
    const foreign = "b_other_install";
    jobOf[foreign] = await leaveBuild(api, foreign, "0000000000000000");
    await new Promise((r) => setTimeout(r, 50)); // the Job controller makes the pods
    assert.equal(api.store.count("pods", ns), 7);

    const swept = new Promise<Record<string, unknown>>((resolve, reject) => {
      const log: RpcLogger = {
        info: (message, fields) => { if (message === "kaniko sweeper removed leftovers") resolve(fields ?? {}); },
        error: (message, fields) => reject(new Error(`${message}: ${JSON.stringify(fields)}`)),
      };
      composed = composeServices({ config: staticConfigSource(config), services: ["config", "metadata", "builder"], log });
    });
    const fields = await swept;
    assert.deepEqual([...(fields["jobs"] as string[])].sort(), [jobOf[failed], jobOf[canceled], jobOf[abandoned], jobOf[missing]].sort());
    assert.equal((fields["secrets"] as string[]).length, 8, "two Secrets of each dead build");
    await new Promise((r) => setTimeout(r, 20)); // background propagation removes the pods
    const alive = [queued, running, foreign].sort();
    assert.deepEqual(buildIdsIn(api, "jobs"), alive);
    assert.deepEqual(buildIdsIn(api, "pods"), alive);
    assert.deepEqual(buildIdsIn(api, "secrets"), [...alive, ...alive].sort());
  } finally {
    await composed?.close();
    await api.close();
    await reg.stop();
    await dir.remove();
  }
});
