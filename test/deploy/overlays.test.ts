import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { configSchema, envName } from "../../libs/config/config-schema.js";
import { formatDiagnostic } from "../../libs/config/config-error.js";
import type { ResolvedConfig } from "../../libs/config/config-types.js";
import { validateConfigText } from "../../libs/config/validate-config.js";
import { serviceNames } from "../../libs/rpc/service-names.js";
import { renderKustomization, type Manifest } from "./kustomize.js";

interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }
interface Container {
  name: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { grpc?: { port: number; service?: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
interface Workload extends Manifest {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface LabelSelector { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }

const overlaysDir = fileURLToPath(new URL("../../deploy/kubernetes/overlays/", import.meta.url));
const overlays = ["all-in-one", "split", "builder-nodes"] as const;
const render = (name: string): Manifest[] => renderKustomization(join(overlaysDir, name));

const validators: Record<string, (d: Manifest) => void> = {
  Namespace: (d) => new Namespace(d as ConstructorParameters<typeof Namespace>[0]).validate(),
  ServiceAccount: (d) => new ServiceAccount(d as ConstructorParameters<typeof ServiceAccount>[0]).validate(),
  Role: (d) => new Role(d as ConstructorParameters<typeof Role>[0]).validate(),
  RoleBinding: (d) => new RoleBinding(d as ConstructorParameters<typeof RoleBinding>[0]).validate(),
  ConfigMap: (d) => new ConfigMap(d as ConstructorParameters<typeof ConfigMap>[0]).validate(),
  Deployment: (d) => new Deployment(d as ConstructorParameters<typeof Deployment>[0]).validate(),
  StatefulSet: (d) => new StatefulSet(d as ConstructorParameters<typeof StatefulSet>[0]).validate(),
  Service: (d) => new Service(d as ConstructorParameters<typeof Service>[0]).validate(),
  NetworkPolicy: (d) => new NetworkPolicy(d as ConstructorParameters<typeof NetworkPolicy>[0]).validate(),
  PodDisruptionBudget: (d) => new PodDisruptionBudget(d as ConstructorParameters<typeof PodDisruptionBudget>[0]).validate(),
};

/** Every `BUILDPLANE_*` variable the configuration library reads, and those that carry a secret. */
const knownEnv = new Set(["BUILDPLANE_CONFIG", ...configSchema.filter((s) => !s.named).flatMap((s) => s.keys.map((k) => envName(s.name, k.key)))]);
const secretEnv = new Set(configSchema.filter((s) => !s.named).flatMap((s) => s.keys.filter((k) => k.type === "secret").map((k) => envName(s.name, k.key))));

const selects = (selector: LabelSelector, labels: Record<string, string>): boolean =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (selector.matchExpressions ?? []).every((e) => (e.operator === "In" ? (e.values ?? []).includes(labels[e.key] ?? "") : false));

const home = mkdtempSync(join(tmpdir(), "bp-overlays-"));
after(() => rmSync(home, { recursive: true, force: true }));

/** The config a workload's first container loads: its ConfigMap's TOML with its env, Secret values filled in. */
function workloadConfig(docs: readonly Manifest[], w: Workload): ResolvedConfig {
  const spec = w.spec.template.spec;
  const container = spec.containers[0];
  assert.ok(container);
  const mount = container.volumeMounts?.find((m) => m.mountPath === "/etc/buildplane");
  const mapName = spec.volumes?.find((v) => v.name === mount?.name)?.configMap?.name;
  const map = docs.find((d) => d.kind === "ConfigMap" && d.metadata?.name === mapName);
  assert.ok(map, `${w.metadata?.name} mounts ConfigMap ${String(mapName)}, which exists`);
  const toml = (map["data"] as Record<string, string>)["buildplane.toml"] ?? "";
  const env: NodeJS.ProcessEnv = { HOME: home, KUBERNETES_SERVICE_HOST: "10.96.0.1" };
  for (const e of container.env ?? []) {
    if (e.name === "BUILDPLANE_CONFIG") continue;
    env[e.name] = e.value ?? (e.name === envName("metadata", "db_connection") ? "postgres://buildplane:pw@postgres.buildplane.svc:5432/buildplane" : `secret-${e.valueFrom?.secretKeyRef?.key ?? ""}`);
  }
  const result = validateConfigText(toml, `${String(mapName)}/buildplane.toml`, env);
  assert.deepEqual(result.diagnostics.map(formatDiagnostic), [], `${w.metadata?.name}'s configuration loads`);
  assert.ok(result.config);
  return result.config;
}

for (const overlay of overlays) {
  describe(`overlay ${overlay}`, () => {
    const docs = render(overlay);
    const workloads = docs.filter((d): d is Workload => d.kind === "Deployment" || d.kind === "StatefulSet");
    const ofKind = (kind: string): Manifest[] => docs.filter((d) => d.kind === kind);

    test("every object is valid against the Kubernetes schema of its kind, in the buildplane namespace", () => {
      for (const d of docs) {
        const validate = validators[d.kind ?? ""];
        assert.ok(validate, `a validator for ${d.kind}`);
        validate(d);
        if (d.kind !== "Namespace") assert.equal(d.metadata?.namespace, "buildplane", `${d.kind} ${d.metadata?.name}`);
      }
      assert.ok(workloads.length > 0);
    });

    test("every workload is covered by a PodDisruptionBudget, a Service and a NetworkPolicy, and runs two replicas or more", () => {
      for (const w of workloads) {
        const labels = w.spec.template.metadata.labels;
        assert.ok(selects(w.spec.selector, labels), `${w.metadata?.name} selects its own pods`);
        const pdbs = ofKind("PodDisruptionBudget").filter((p) => selects((p["spec"] as { selector: LabelSelector }).selector, labels));
        assert.equal(pdbs.length, 1, `one PodDisruptionBudget for ${w.metadata?.name}`);
        assert.deepEqual(Object.keys(pdbs[0]?.["spec"] as object).sort(), ["maxUnavailable", "selector"], "maxUnavailable, so a drain is never blocked");
        assert.ok(ofKind("Service").some((s) => selects((s["spec"] as { selector: LabelSelector }).selector, labels)), `a Service for ${w.metadata?.name}`);
        assert.ok(ofKind("NetworkPolicy").some((n) => selects((n["spec"] as { podSelector: LabelSelector }).podSelector, labels)), `a NetworkPolicy for ${w.metadata?.name}`);
        assert.ok((w.spec.replicas ?? 1) >= 2, `${w.metadata?.name} has replicas to spare`);
      }
    });

    test("every buildplane container is ready by gRPC health on 25222, pauses in preStop, and its grace covers the build timeout", () => {
      for (const w of workloads) {
        const spec = w.spec.template.spec;
        const c = spec.containers.find((x) => x.name === "buildplane");
        assert.ok(c, `${w.metadata?.name} runs buildplane`);
        assert.equal(c.readinessProbe?.grpc?.port, 25222, `${w.metadata?.name} readiness`);
        const pause = c.lifecycle?.preStop?.exec?.command;
        assert.equal(pause?.[0], "sleep", `${w.metadata?.name} preStop`);
        const config = workloadConfig(docs, w);
        const args = c.args ?? ["serve"];
        const services = args.includes("--services") ? [args[args.indexOf("--services") + 1]] : serviceNames;
        if (services.includes("resolver") || services.includes("builder")) {
          const grace = spec.terminationGracePeriodSeconds ?? 30;
          assert.ok(grace >= config.builder.buildTimeoutSecs + Number(pause?.[1]), `${w.metadata?.name}: grace ${grace} s covers the ${config.builder.buildTimeoutSecs} s build timeout and the preStop pause`);
        }
      }
    });

    test("tokens and every secret come from the Secret, required where the pod cannot work without them; every variable is a config key", () => {
      for (const w of workloads) {
        for (const c of w.spec.template.spec.containers.filter((x) => x.name === "buildplane")) {
          for (const e of c.env ?? []) {
            if (e.name.startsWith("BUILDPLANE_")) assert.ok(knownEnv.has(e.name), `${e.name} is a configuration variable`);
            if (!secretEnv.has(e.name)) continue;
            assert.equal(e.value, undefined, `${w.metadata?.name}: ${e.name} is not written in the manifest`);
            assert.equal(e.valueFrom?.secretKeyRef?.name, "buildplane-secrets", `${w.metadata?.name}: ${e.name}`);
            if (/TOKEN$/.test(e.name)) assert.equal(e.valueFrom?.secretKeyRef?.optional, undefined, `${w.metadata?.name}: ${e.name} is required`);
          }
        }
      }
    });
  });
}

test("split: the six services each run once, and every service URL names a Service of this overlay on port 25222", () => {
  const docs = render("split");
  const deployments = docs.filter((d): d is Workload => d.kind === "Deployment");
  const ran = deployments.map((d) => d.spec.template.spec.containers[0]?.args ?? []);
  for (const args of ran) assert.deepEqual(args.slice(0, 2), ["serve", "--services"]);
  assert.deepEqual(ran.map((a) => a[2]).sort(), [...serviceNames].sort());
  const services = new Map(docs.filter((d) => d.kind === "Service").map((s) => [s.metadata?.name, s["spec"] as { ports: { port: number }[] }]));
  for (const d of deployments) {
    const config = workloadConfig(docs, d);
    for (const name of serviceNames) {
      const url = new URL(config.services[`${name}Url` as `${typeof name}Url`]);
      assert.equal(url.port, "25222", `${d.metadata?.name} reaches ${name} on 25222`);
      assert.ok(services.get(url.hostname)?.ports.some((p) => p.port === 25222), `${d.metadata?.name}: ${url.hostname} is a Service of the overlay`);
    }
    assert.notEqual(config.services.token, undefined, `${d.metadata?.name} presents the services token`);
  }
});

test("builder-nodes: the nodes are a StatefulSet behind a headless Service, and the main install delegates to each replica's stable name", () => {
  const docs = render("builder-nodes");
  const sts = docs.find((d): d is Workload => d.kind === "StatefulSet");
  assert.ok(sts);
  const headless = docs.find((d) => d.kind === "Service" && d.metadata?.name === sts.spec.serviceName);
  assert.equal((headless?.["spec"] as { clusterIP?: string } | undefined)?.clusterIP, "None", "the StatefulSet's Service is headless");
  const main = docs.find((d): d is Workload => d.kind === "Deployment");
  assert.ok(main);
  const mainConfig = workloadConfig(docs, main);
  assert.equal(mainConfig.builder.effectiveMode.kind, "delegate");
  const urls = mainConfig.builder.effectiveMode.kind === "delegate" ? mainConfig.builder.effectiveMode.urls : [];
  const replicas = sts.spec.replicas ?? 1;
  assert.deepEqual(urls, Array.from({ length: replicas }, (_, i) => `http://${sts.metadata?.name}-${i}.${sts.spec.serviceName}.buildplane.svc:25222`));
  const nodeConfig = workloadConfig(docs, sts);
  assert.equal(nodeConfig.security.adminOverTcp, true);
  assert.equal(nodeConfig.system.containerCommand, "docker");
  const tokenKey = (w: Workload): string | undefined =>
    w.spec.template.spec.containers[0]?.env?.find((e) => e.name === envName("system", "builder_auth_token"))?.valueFrom?.secretKeyRef?.key;
  assert.equal(tokenKey(main), "node-token");
  assert.equal(tokenKey(sts), "node-token", "main and nodes share the node token");
});
