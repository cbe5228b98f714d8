import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { load, loadAll } from "js-yaml";
import { configSchema, envName } from "../../libs/config/config-schema.js";
import { httpRouteScopes } from "../../libs/rpc/rpc-scopes.js";

/**
 * The monitoring component (`deploy/kubernetes/monitoring/`) fits the
 * manifests it is added to: its ServiceMonitor selects the buildplane
 * Service and a port it has, its patch targets the Deployment and container
 * that exist, and the token it gives Prometheus carries the scope of
 * `GET /metrics`.
 */

type Doc = { kind?: string; metadata?: { name?: string; labels?: Record<string, string> }; spec?: Record<string, unknown> } & Record<string, unknown>;

const kubeDir = fileURLToPath(new URL("../../deploy/kubernetes/", import.meta.url));
const monitoringDir = join(kubeDir, "monitoring");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return path === monitoringDir ? [] : yamlFiles(path);
    return name.endsWith(".yaml") && name !== "kustomization.yaml" ? [path] : [];
  });
}

/** Every manifest of deploy/kubernetes outside monitoring/, wherever the base and overlays keep them. */
const manifests: Doc[] = yamlFiles(kubeDir).flatMap((f) => (loadAll(readFileSync(f, "utf8")) as (Doc | null)[]).filter((d): d is Doc => d !== null));
const named = (kind: string, name: string): Doc => {
  const found = manifests.find((d) => d.kind === kind && d.metadata?.name === name);
  assert.ok(found, `no ${kind} ${name} under ${relative(process.cwd(), kubeDir)}`);
  return found;
};
const readMonitoring = (file: string): Doc => load(readFileSync(join(monitoringDir, file), "utf8")) as Doc;

interface Container {
  name: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
}
const podSpec = (d: Doc): { metadata?: { annotations?: Record<string, string> }; spec: { containers: Container[] } } =>
  (d.spec as { template: { metadata?: { annotations?: Record<string, string> }; spec: { containers: Container[] } } }).template;

test("the monitoring folder is a kustomize Component listing files that exist", { timeout: 30_000 }, () => {
  const k = load(readFileSync(join(monitoringDir, "kustomization.yaml"), "utf8")) as { kind: string; resources: string[]; patches: Array<{ path: string; target: { kind: string; name: string } }> };
  assert.equal(k.kind, "Component");
  for (const f of [...k.resources, ...k.patches.map((p) => p.path)]) assert.ok(statSync(join(monitoringDir, f)).isFile(), f);
  for (const p of k.patches) named(p.target.kind, p.target.name);
});

test("the ServiceMonitor selects the buildplane Service by its labels and scrapes a port it names at /metrics with the read token", { timeout: 30_000 }, () => {
  const monitor = readMonitoring("servicemonitor.yaml");
  assert.equal(monitor.kind, "ServiceMonitor");
  const spec = monitor.spec as {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: Array<{ port: string; path: string; authorization: { type: string; credentials: { name: string; key: string } } }>;
  };
  const service = named("Service", "buildplane");
  for (const [k, v] of Object.entries(spec.selector.matchLabels)) assert.equal(service.metadata?.labels?.[k], v, `Service label ${k}`);
  assert.deepEqual(spec.namespaceSelector.matchNames, [(service.metadata as { namespace?: string }).namespace]);
  const ports = ((service.spec as { ports: Array<{ name: string }> }).ports).map((p) => p.name);
  const endpoint = spec.endpoints[0];
  assert.ok(endpoint);
  assert.ok(ports.includes(endpoint.port), `the Service has no port ${endpoint.port}`);
  assert.equal(endpoint.path, "/metrics");
  assert.equal(endpoint.authorization.type, "Bearer");
  assert.deepEqual(endpoint.authorization.credentials, { name: "buildplane-secrets", key: "read-token" });
});

test("the scrape annotations name the container's port and path, and the patch gives the server the same read token", { timeout: 30_000 }, () => {
  const patch = podSpec(readMonitoring("scrape-annotations.yaml"));
  const annotations = patch.metadata?.annotations ?? {};
  assert.equal(annotations["prometheus.io/scrape"], "true");
  assert.equal(annotations["prometheus.io/path"], "/metrics");
  const deployment = podSpec(named("Deployment", "buildplane"));
  const patched = patch.spec.containers[0];
  assert.ok(patched);
  const container = deployment.spec.containers.find((c) => c.name === patched.name);
  assert.ok(container, `the Deployment has no container ${patched.name}`);
  assert.ok((container.ports ?? []).some((p) => String(p.containerPort) === annotations["prometheus.io/port"]), "the annotated port is not a container port");
  const env = patched.env?.[0];
  const knownEnv = new Set(configSchema.filter((s) => !s.named).flatMap((s) => s.keys.map((k) => envName(s.name, k.key))));
  assert.equal(env?.name, "BUILDPLANE_SECURITY_READ_TOKEN");
  assert.ok(knownEnv.has(env.name));
  assert.deepEqual(env.valueFrom?.secretKeyRef, { name: "buildplane-secrets", key: "read-token" });
});

test("GET /metrics is in the read scope, which the read token carries", { timeout: 30_000 }, () => {
  assert.deepEqual(httpRouteScopes["GET /metrics"], ["read"]);
});
