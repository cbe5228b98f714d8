import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { formatDiagnostic } from "./config-error.js";
import { redactedTable } from "./redact.js";
import { isInKubernetes } from "./runtime-env.js";
import { toProtoConfig } from "./to-proto-config.js";
import { validateConfigText } from "./validate-config.js";

const dir = mkdtempSync(join(tmpdir(), "bp-kube-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "bp.toml");
const home = { HOME: join(dir, "home") };

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const result = validateConfigText(text, file, { ...home, ...env });
  assert.equal(result.config, undefined, "an invalid config must not resolve");
  return result.diagnostics.map(formatDiagnostic);
}
function resolved(text: string, env: NodeJS.ProcessEnv = {}) {
  const result = validateConfigText(text, file, { ...home, ...env });
  assert.ok(result.config, result.diagnostics.map(formatDiagnostic).join("\n"));
  return result.config;
}

describe("[kubernetes] keys", () => {
  test("an empty file gives every kubernetes default", () => {
    const k = resolved("").kubernetes;
    assert.deepEqual({ ...k }, {
      namespace: "buildplane", kubeconfig: "", jobTtlSecs: 600, serviceAccount: "", resourcesRequests: {}, resourcesLimits: {},
      nodeSelector: {}, tolerations: [], podStartTimeoutSecs: 180, uploadTimeoutSecs: 300, podLabels: {}, podAnnotations: {},
    });
  });

  test("pod labels and annotations are read, a mesh's sidecar opt-outs among them", () => {
    const k = resolved(`[kubernetes.pod_labels]
team = "web"
"sidecar.istio.io/inject" = "false"
[kubernetes.pod_annotations]
"sidecar.istio.io/inject" = "false"
"linkerd.io/inject" = "disabled"
"example.com/note" = "free text, any characters: ok"
`).kubernetes;
    assert.deepEqual(k.podLabels, { team: "web", "sidecar.istio.io/inject": "false" });
    assert.deepEqual(k.podAnnotations, { "sidecar.istio.io/inject": "false", "linkerd.io/inject": "disabled", "example.com/note": "free text, any characters: ok" });
  });

  test("pod labels of buildplane's own, bad label values and bad annotation keys are refused, naming the key", () => {
    assert.deepEqual(problems('[kubernetes.pod_labels]\n"buildplane.dev/build-id" = "x"\n'), [
      `${file}:2:1: kubernetes.pod_labels."buildplane.dev/build-id": "buildplane.dev/build-id" is buildplane's own label: expected another key (buildplane.dev/* and app.kubernetes.io/managed-by mark and find its pods)`,
    ]);
    assert.deepEqual(problems('[kubernetes.pod_labels]\nteam = "web team"\n'), [
      `${file}:2:1: kubernetes.pod_labels.team: "web team" is not a valid label value: expected at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
    ]);
    assert.deepEqual(problems('[kubernetes.pod_annotations]\n"a/b/c" = "x"\n'), [
      `${file}:2:1: kubernetes.pod_annotations."a/b/c": "a/b/c" is not a valid annotation key: expected [prefix/]name, e.g. "sidecar.istio.io/inject"`,
    ]);
  });

  test("tables and tolerations are read from the file with kubernetes' defaults filled in", () => {
    const k = resolved(`[kubernetes.resources_requests]
cpu = "1"
memory = "2Gi"
[kubernetes]
node_selector = { "kubernetes.io/arch" = "amd64" }
[[kubernetes.tolerations]]
key = "dedicated"
value = "builds"
[[kubernetes.tolerations]]
operator = "Exists"
effect = "NoExecute"
toleration_seconds = 0
`).kubernetes;
    assert.deepEqual(k.resourcesRequests, { cpu: "1", memory: "2Gi" });
    assert.deepEqual(k.nodeSelector, { "kubernetes.io/arch": "amd64" });
    assert.deepEqual(k.tolerations, [
      { key: "dedicated", operator: "Equal", value: "builds", effect: "", tolerationSeconds: undefined },
      { key: "", operator: "Exists", value: "", effect: "NoExecute", tolerationSeconds: 0 },
    ]);
  });

  test("environment overrides set the scalar keys, typed by the schema", () => {
    const k = resolved('[kubernetes]\njob_ttl_secs = 5\nservice_account = "file"\n', {
      BUILDPLANE_KUBERNETES_JOB_TTL_SECS: "60",
      BUILDPLANE_KUBERNETES_SERVICE_ACCOUNT: "kaniko",
      BUILDPLANE_KUBERNETES_POD_START_TIMEOUT_SECS: "30",
      BUILDPLANE_KUBERNETES_UPLOAD_TIMEOUT_SECS: "45",
    }).kubernetes;
    assert.deepEqual([k.jobTtlSecs, k.serviceAccount, k.podStartTimeoutSecs, k.uploadTimeoutSecs], [60, "kaniko", 30, 45]);
  });

  test("environment overrides set the tables as toml inline values", () => {
    const k = resolved("", {
      BUILDPLANE_KUBERNETES_RESOURCES_LIMITS: '{ memory = "4Gi" }',
      BUILDPLANE_KUBERNETES_NODE_SELECTOR: '{ disk = "ssd" }',
      BUILDPLANE_KUBERNETES_TOLERATIONS: '[{ key = "dedicated", operator = "Exists", effect = "NoSchedule" }]',
    }).kubernetes;
    assert.deepEqual(k.resourcesLimits, { memory: "4Gi" });
    assert.deepEqual(k.nodeSelector, { disk: "ssd" });
    assert.deepEqual(k.tolerations, [{ key: "dedicated", operator: "Exists", value: "", effect: "NoSchedule", tolerationSeconds: undefined }]);
  });

  test("bad environment values name the variable, the key and what was expected", () => {
    assert.deepEqual(problems("", {
      BUILDPLANE_KUBERNETES_UPLOAD_TIMEOUT_SECS: "0",
      BUILDPLANE_KUBERNETES_JOB_TTL_SECS: "ten",
      BUILDPLANE_KUBERNETES_TOLERATIONS: '[{ operator = "Always" }]',
    }), [
      'env:BUILDPLANE_KUBERNETES_JOB_TTL_SECS: kubernetes.job_ttl_secs: "ten" is not valid: expected an integer',
      "env:BUILDPLANE_KUBERNETES_TOLERATIONS: kubernetes.tolerations[0].operator: \"Always\" is not valid: expected Equal or Exists",
      "env:BUILDPLANE_KUBERNETES_UPLOAD_TIMEOUT_SECS: kubernetes.upload_timeout_secs: 0 is not valid: expected an integer of at least 1",
    ]);
  });

  test("zero limits and values of the wrong type are refused", () => {
    assert.deepEqual(problems('[kubernetes]\njob_ttl_secs = 0\npod_start_timeout_secs = -1\nupload_timeout_secs = "300"\nservice_account = 5\nnode_selector = "ssd"\ntolerations = { key = "k" }\n'), [
      `${file}:2:1: kubernetes.job_ttl_secs: 0 is not valid: expected an integer of at least 1`,
      `${file}:3:1: kubernetes.pod_start_timeout_secs: -1 is not valid: expected an integer of at least 1`,
      `${file}:4:1: kubernetes.upload_timeout_secs: "300" is not valid: expected an integer`,
      `${file}:5:1: kubernetes.service_account: 5 is not valid: expected a string`,
      `${file}:6:1: kubernetes.node_selector: "ssd" is not valid: expected a table of strings`,
      `${file}:7:1: kubernetes.tolerations: a table is not valid: expected an array of tables`,
    ]);
  });

  test("resource names and quantities are checked as kubernetes checks them", () => {
    assert.deepEqual(problems('[kubernetes.resources_limits]\ncpu = "1"\nmemory = "2GB"\n[kubernetes.resources_requests]\n"bad name" = "1"\n'), [
      `${file}:3:1: kubernetes.resources_limits.memory: "2GB" is not valid: expected a Kubernetes quantity such as "500m", "1" or "2Gi"`,
      `${file}:5:1: kubernetes.resources_requests."bad name": "bad name" is not a valid resource name: expected a name such as cpu, memory or example.com/gpu`,
    ]);
    assert.deepEqual(problems('[kubernetes]\nresources_requests = { cpu = 2 }\n'), [
      `${file}:2:1: kubernetes.resources_requests: a table is not valid: expected a table of strings`,
    ]);
  });

  test("a request larger than its limit is refused", () => {
    assert.deepEqual(problems('[kubernetes]\nresources_requests = { memory = "4Gi", cpu = "500m" }\nresources_limits = { memory = "2048Mi", cpu = "1" }\n'), [
      `${file}:2:1: kubernetes.resources_requests.memory: "4Gi" is more than the limit "2048Mi": expected a request no larger than resources_limits.memory`,
    ]);
  });

  test("node selector label keys and values are checked", () => {
    assert.deepEqual(problems('[kubernetes.node_selector]\n"a/b/c" = "x"\n'), [
      `${file}:2:1: kubernetes.node_selector."a/b/c": "a/b/c" is not a valid label key: expected [prefix/]name, e.g. "kubernetes.io/arch"`,
    ]);
    assert.deepEqual(problems('[kubernetes.node_selector]\ndisk = "fast ssd"\n'), [
      `${file}:2:1: kubernetes.node_selector.disk: "fast ssd" is not a valid label value: expected at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
    ]);
  });

  test("toleration fields are checked one table at a time, at their own line", () => {
    const ok = '[[kubernetes.tolerations]]\nkey = "a"\n';
    const cases: [string, string][] = [
      ['operator = "Equals"', 'kubernetes.tolerations[1].operator: "Equals" is not valid: expected Equal or Exists'],
      ['effect = "NoRun"', 'kubernetes.tolerations[1].effect: "NoRun" is not valid: expected NoSchedule, PreferNoSchedule, NoExecute or ""'],
      ['opertor = "Exists"', 'kubernetes.tolerations[1].opertor: unknown key "opertor": did you mean "operator"?'],
      ['key = "a"\nvalue = "x"\noperator = "Exists"', 'kubernetes.tolerations[1].value: "x" is not valid with operator "Exists": expected no value'],
      ['operator = "Equal"', 'kubernetes.tolerations[1].operator: "Equal" needs a key: expected a key, or operator = "Exists" to tolerate every taint'],
      ['key = "a"\ntoleration_seconds = 60', 'kubernetes.tolerations[1].toleration_seconds: 60 is not valid with effect "": expected effect = "NoExecute"'],
      ['key = "a"\neffect = "NoExecute"\ntoleration_seconds = -1', "kubernetes.tolerations[1].toleration_seconds: -1 is not valid: expected an integer of at least 0"],
      ['key = "bad key"', 'kubernetes.tolerations[1].key: "bad key" is not a valid taint key: expected [prefix/]name, e.g. "dedicated" or "example.com/builds"'],
    ];
    for (const [body, message] of cases) {
      const text = `${ok}[[kubernetes.tolerations]]\n${body}\n`;
      const lines = text.split("\n");
      const field = message.slice("kubernetes.tolerations[1].".length).split(":")[0] ?? "";
      const line = lines.findIndex((l, i) => i >= 2 && l.startsWith(`${field} `)) + 1;
      assert.deepEqual(problems(text), [`${file}:${line > 0 ? line : 3}:1: ${message}`], body);
    }
  });

  test("an inline array of tolerations reports the item at the key's line", () => {
    assert.deepEqual(problems('[kubernetes]\ntolerations = [{ operator = "Exists" }, "x"]\n'), [
      `${file}:2:1: kubernetes.tolerations[1]: "x" is not valid: expected a table`,
    ]);
  });

  test("the proto config and the redacted table carry the new keys", () => {
    const c = resolved('[kubernetes]\nresources_limits = { memory = "2Gi" }\n[[kubernetes.tolerations]]\noperator = "Exists"\neffect = "NoExecute"\ntoleration_seconds = 30\n');
    const proto = toProtoConfig(c).kubernetes;
    assert.equal(proto?.jobTtlSecs, 600);
    assert.deepEqual(proto?.resourcesLimits, { memory: "2Gi" });
    assert.equal(proto?.tolerations[0]?.operator, "Exists");
    assert.equal(proto?.tolerations[0]?.tolerationSeconds, 30n);
    assert.deepEqual(redactedTable(c)["kubernetes"]?.["tolerations"], [{ key: "", operator: "Exists", value: "", effect: "NoExecute", toleration_seconds: 30 }]);
  });
});

describe("kubeconfig default", () => {
  const kubeFile = join(dir, "kube.yaml");
  writeFileSync(kubeFile, "apiVersion: v1\n");

  test("KUBECONFIG is the default, its first path when it lists several", () => {
    assert.equal(resolved("", { KUBECONFIG: kubeFile }).kubernetes.kubeconfig, kubeFile);
    assert.equal(resolved("", { KUBECONFIG: `${kubeFile}:/other/config` }).kubernetes.kubeconfig, kubeFile);
  });

  test("the file and BUILDPLANE_KUBERNETES_KUBECONFIG win over KUBECONFIG", () => {
    const other = join(dir, "other.yaml");
    writeFileSync(other, "apiVersion: v1\n");
    assert.equal(resolved(`[kubernetes]\nkubeconfig = "${other}"\n`, { KUBECONFIG: kubeFile }).kubernetes.kubeconfig, other);
    assert.equal(resolved("", { KUBECONFIG: kubeFile, BUILDPLANE_KUBERNETES_KUBECONFIG: "" }).kubernetes.kubeconfig, "");
  });

  test("~/.kube/config is the default outside kubernetes when it exists, and not inside", () => {
    const h = join(dir, "home-with-kube");
    mkdirSync(join(h, ".kube"), { recursive: true });
    writeFileSync(join(h, ".kube", "config"), "apiVersion: v1\n");
    assert.equal(resolved("", { HOME: h }).kubernetes.kubeconfig, join(h, ".kube", "config"));
    assert.equal(resolved('[registry]\nurl = "reg:5000"\n', { HOME: h, KUBERNETES_SERVICE_HOST: "10.0.0.1" }).kubernetes.kubeconfig, "");
  });

  test("an unreadable KUBECONFIG is ignored in command mode and refused in kaniko mode", () => {
    const missing = join(dir, "missing.yaml");
    assert.equal(resolved("", { KUBECONFIG: missing }).kubernetes.kubeconfig, missing);
    assert.deepEqual(problems('[builder]\nmode = "kaniko"\n[registry]\nurl = "reg:5000"\n', { KUBECONFIG: missing }), [
      `env:KUBECONFIG: kubernetes.kubeconfig: "${missing}" cannot be read (ENOENT): expected a readable file`,
    ]);
  });
});

describe("running inside kubernetes", () => {
  const inside = { KUBERNETES_SERVICE_HOST: "10.96.0.1" };

  test("running inside kubernetes is told by KUBERNETES_SERVICE_HOST", () => {
    assert.equal(isInKubernetes(inside), true);
    assert.equal(isInKubernetes({ KUBERNETES_SERVICE_HOST: "" }), false);
    assert.equal(isInKubernetes({}), false);
  });

  test("auto resolves to kaniko inside kubernetes and to command outside", () => {
    const out = resolved("");
    assert.equal(out.runtime.inKubernetes, false);
    assert.deepEqual(out.builder.effectiveMode, { kind: "command" });
    const inK8s = resolved('[registry]\nurl = "reg:5000"\n', inside);
    assert.equal(inK8s.runtime.inKubernetes, true);
    assert.deepEqual(inK8s.builder.mode, { kind: "auto" });
    assert.deepEqual(inK8s.builder.effectiveMode, { kind: "kaniko" });
  });

  test("an explicit mode is kept inside kubernetes", () => {
    assert.deepEqual(resolved('[builder]\nmode = "command"\n', inside).builder.effectiveMode, { kind: "command" });
  });

  test("auto inside kubernetes without a registry says why it needs one", () => {
    const message = '"auto" resolved to kaniko because KUBERNETES_SERVICE_HOST is set, and kaniko needs a registry: set [registry] url (or BUILDPLANE_REGISTRY_URL), or set mode = "command"';
    assert.deepEqual(problems("", inside), [`${file}: builder.mode: ${message}`]);
    assert.deepEqual(problems('[builder]\nmode = "auto"\n', inside), [`${file}:2:1: builder.mode: ${message}`]);
  });
});
