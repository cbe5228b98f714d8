import assert from "node:assert/strict";
import { test } from "node:test";
import { Job } from "kubernetes-models/batch/v1/Job";
import { validateConfigText } from "../../../libs/config/validate-config.js";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import { installIdOf, kanikoOptionsFromConfig } from "./kaniko-config.js";
import { defaultKanikoOptions } from "./kaniko-options.js";
import { planKanikoBuild } from "./kaniko-plan.js";

function config(text: string) {
  const r = validateConfigText(text, "bp.toml", { HOME: "/nonexistent-home" });
  assert.ok(r.config, r.diagnostics.map((d) => d.message).join("; "));
  return r.config;
}

const full = `[builder]
mode = "kaniko"
kaniko_image = "kaniko:2"
kaniko_cache = false
kaniko_cache_repo = "reg:5000/cache"
build_timeout_secs = 900
[registry]
url = "reg:5000"
[kubernetes]
namespace = "builds"
job_ttl_secs = 120
service_account = "kaniko"
resources_requests = { cpu = "500m", memory = "1Gi" }
resources_limits = { memory = "2Gi" }
node_selector = { "kubernetes.io/arch" = "amd64" }
pod_labels = { team = "web" }
pod_annotations = { "sidecar.istio.io/inject" = "false" }
pod_start_timeout_secs = 60
upload_timeout_secs = 90
[[kubernetes.tolerations]]
key = "dedicated"
value = "builds"
effect = "NoSchedule"
[[kubernetes.tolerations]]
operator = "Exists"
effect = "NoExecute"
toleration_seconds = 30
`;

test("every kaniko option is taken from [builder] and [kubernetes]", () => {
  const c = config(full);
  assert.deepEqual(kanikoOptionsFromConfig(c), {
    installId: installIdOf(c.metadata.dbConnection.unwrap()),
    namespace: "builds",
    kanikoImage: "kaniko:2",
    cache: false,
    cacheRepo: "reg:5000/cache",
    ttlSecondsAfterFinished: 120,
    serviceAccount: "kaniko",
    resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
    nodeSelector: { "kubernetes.io/arch": "amd64" },
    podLabels: { team: "web" },
    podAnnotations: { "sidecar.istio.io/inject": "false" },
    tolerations: [
      { key: "dedicated", operator: "Equal", value: "builds", effect: "NoSchedule" },
      { operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
    ],
    podStartTimeoutSecs: 60,
    uploadTimeoutSecs: 90,
  });
});

test("the install id depends on the metadata database and never on its password", () => {
  const a = installIdOf("postgres://bp:secret-one@db:5432/buildplane", "h1");
  assert.match(a, /^[0-9a-f]{16}$/);
  assert.equal(installIdOf("postgres://bp:secret-two@db:5432/buildplane", "h2"), a, "same database, other password and host");
  assert.notEqual(installIdOf("postgres://bp:secret-one@db:5432/other", "h1"), a);
  assert.equal(installIdOf("sqlite:/var/lib/bp.db", "h1"), installIdOf("sqlite:/var/lib/bp.db", "h1"));
  assert.notEqual(installIdOf("sqlite:/var/lib/bp.db", "h1"), installIdOf("sqlite:/var/lib/bp.db", "h2"), "a SQLite file is its host's own");
});

test("an empty configuration gives the documented defaults, frozen", () => {
  const o = kanikoOptionsFromConfig(config(""));
  assert.equal(o.namespace, "buildplane");
  assert.equal(o.cache, true);
  assert.equal(o.ttlSecondsAfterFinished, defaultKanikoOptions.ttlSecondsAfterFinished);
  assert.equal(o.podStartTimeoutSecs, defaultKanikoOptions.podStartTimeoutSecs);
  assert.equal(o.uploadTimeoutSecs, defaultKanikoOptions.uploadTimeoutSecs);
  assert.deepEqual(o.tolerations, []);
  assert.deepEqual(o.resources, { requests: {}, limits: {} });
  assert.ok(Object.isFrozen(o) && Object.isFrozen(o.tolerations) && Object.isFrozen(o.resources));
});

test("the planned Job from the configured options is valid against the Kubernetes schema", () => {
  const registry: RegistryTarget = {
    url: "reg:5000", project: "", type: "", insecure: false, username: "", password: undefined,
    caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: "",
  };
  const plan = planKanikoBuild(
    { buildId: "b-1", name: "cli-a:0123456789abcdef", reference: "reg:5000/cli-a:0123456789abcdef", imageKey: "ab".repeat(32),
      appId: "a", containerfile: "Containerfile", args: [], target: "", platform: "", registry, labels: {}, timeoutSecs: 900 },
    kanikoOptionsFromConfig(config(full)),
    "x1y2z3",
  );
  new Job(plan.job as ConstructorParameters<typeof Job>[0]).validate();
  const pod = plan.job.spec?.template.spec;
  assert.equal(plan.job.spec?.ttlSecondsAfterFinished, 120);
  assert.equal(pod?.serviceAccountName, "kaniko");
  assert.deepEqual(pod?.tolerations?.[1], { operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 });
  assert.deepEqual(pod?.containers[0]?.resources, { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } });
});
