import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { load } from "js-yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
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
import { validateConfigText } from "../../libs/config/validate-config.js";
import { serviceNames } from "../../libs/rpc/service-names.js";
import { renderKustomization } from "./kustomize.js";

type Doc = Record<string, unknown> & { kind?: string; metadata?: { name?: string; namespace?: string } };

const root = new URL("../../", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), "utf8");
/** `kubectl apply -k deploy/kubernetes`: the all-in-one overlay. */
const docs = renderKustomization(fileURLToPath(new URL("deploy/kubernetes/", root))) as Doc[];
const byKind = (kind: string): Doc[] => docs.filter((d) => d.kind === kind);
const one = (kind: string): Doc => {
  const found = byKind(kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as Doc;
};

/** Every `BUILDPLANE_*` variable the configuration library reads. */
const knownEnv = new Set(["BUILDPLANE_CONFIG", ...configSchema.filter((s) => !s.named).flatMap((s) => s.keys.map((k) => envName(s.name, k.key)))]);

const home = mkdtempSync(join(tmpdir(), "bp-deploy-"));
after(() => rmSync(home, { recursive: true, force: true }));

test("every kubernetes manifest is valid against the Kubernetes schema of its kind", () => {
  const validators: Record<string, (d: Doc) => void> = {
    Namespace: (d) => new Namespace(d as ConstructorParameters<typeof Namespace>[0]).validate(),
    ServiceAccount: (d) => new ServiceAccount(d as ConstructorParameters<typeof ServiceAccount>[0]).validate(),
    Role: (d) => new Role(d as ConstructorParameters<typeof Role>[0]).validate(),
    RoleBinding: (d) => new RoleBinding(d as ConstructorParameters<typeof RoleBinding>[0]).validate(),
    ConfigMap: (d) => new ConfigMap(d as ConstructorParameters<typeof ConfigMap>[0]).validate(),
    Deployment: (d) => new Deployment(d as ConstructorParameters<typeof Deployment>[0]).validate(),
    Service: (d) => new Service(d as ConstructorParameters<typeof Service>[0]).validate(),
    NetworkPolicy: (d) => new NetworkPolicy(d as ConstructorParameters<typeof NetworkPolicy>[0]).validate(),
    PodDisruptionBudget: (d) => new PodDisruptionBudget(d as ConstructorParameters<typeof PodDisruptionBudget>[0]).validate(),
  };
  assert.deepEqual([...new Set(docs.map((d) => d.kind))].sort(), Object.keys(validators).sort());
  for (const d of docs) {
    validators[d.kind ?? ""]?.(d);
    if (d.kind !== "Namespace") assert.equal(d.metadata?.namespace, "buildplane", `${d.kind} ${d.metadata?.name} is in the buildplane namespace`);
  }
});

test("the top kustomization is the all-in-one overlay", () => {
  const k = load(read("deploy/kubernetes/kustomization.yaml")) as { resources?: string[] };
  assert.deepEqual(k.resources, ["overlays/all-in-one"]);
});

test("the configmap's buildplane.toml loads in kaniko mode with postgres metadata", () => {
  const toml = (one("ConfigMap")["data"] as Record<string, string>)["buildplane.toml"] ?? "";
  const env = {
    HOME: home,
    KUBERNETES_SERVICE_HOST: "10.96.0.1",
    BUILDPLANE_METADATA_DB_CONNECTION: "postgres://buildplane:pw@postgres.buildplane.svc:5432/buildplane",
    BUILDPLANE_REGISTRY_PASSWORD: "pw",
    BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: "tok",
  };
  const result = validateConfigText(toml, "buildplane.toml", env);
  assert.deepEqual(result.diagnostics.map(formatDiagnostic), []);
  const c = result.config;
  assert.ok(c);
  assert.deepEqual(c.builder.effectiveMode, { kind: "kaniko" });
  assert.match(c.metadata.dbConnection.unwrap(), /^postgres:\/\//);
  assert.equal(c.http.port, 25222);
  assert.equal(c.kubernetes.namespace, "buildplane");
  assert.equal(c.kubernetes.kubeconfig, "", "in-cluster credentials");
  assert.ok(byKind("ServiceAccount").some((sa) => sa.metadata?.name === c.kubernetes.serviceAccount), "the Kaniko service account exists");
});

test("the deployment runs as the bound service account, ready by gRPC health (database included) and live by TCP on port 25222", () => {
  const d = one("Deployment") as unknown as { spec: { template: { spec: { serviceAccountName: string; containers: { env?: { name: string }[]; ports: { containerPort: number }[]; readinessProbe: { grpc?: { port: number } }; livenessProbe: { grpc?: { port: number }; tcpSocket?: { port: number } } }[] } } } };
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  assert.ok(c);
  assert.equal(pod.serviceAccountName, "buildplane");
  assert.deepEqual(c.ports.map((p) => p.containerPort), [25222]);
  assert.equal(c.readinessProbe.grpc?.port, 25222);
  assert.equal(c.livenessProbe.grpc, undefined, "a database outage must not restart the pod");
  assert.equal(c.livenessProbe.tcpSocket?.port, 25222);
  for (const e of c.env ?? []) assert.ok(knownEnv.has(e.name), `${e.name} is a configuration variable`);
  const svc = one("Service") as unknown as { spec: { ports: { port: number }[] } };
  assert.deepEqual(svc.spec.ports.map((p) => p.port), [25222]);
});

test("the compose split variant runs each service once and points every one at the others", () => {
  const compose = load(read("deploy/compose.yaml")) as { services: Record<string, { command?: string[]; environment?: Record<string, string>; profiles?: string[]; volumes?: string[] }> };
  const split = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes("split") && s.command);
  assert.deepEqual(split.map(([, s]) => s.command?.[2]).sort(), [...serviceNames].sort());
  for (const [name, s] of split) {
    assert.deepEqual(s.command, ["serve", "--services", name]);
    for (const other of serviceNames) assert.equal(s.environment?.[envName("services", `${other}_url`)], `http://${other}:25222`, `${name} finds ${other}`);
  }
  // Metadata keeps its SQLite file in its own volume: no database image is pulled.
  assert.deepEqual(compose.services["metadata"]?.volumes, ["metadata-data:/data"]);
  for (const s of Object.values(compose.services)) {
    for (const key of Object.keys(s.environment ?? {}).filter((k) => k.startsWith("BUILDPLANE_"))) assert.ok(knownEnv.has(key), `${key} is a configuration variable`);
  }
  const aio = compose.services["buildplane"];
  assert.deepEqual(aio?.profiles, ["all-in-one"]);
  assert.equal(aio?.environment?.["BUILDPLANE_SYSTEM_DATA_DIR"], "/data");
});

test("the Dockerfile builds on a base chosen by BASE (node 24 by default) and runs buildplane under tini as a non-root user", () => {
  const text = read("deploy/Dockerfile");
  assert.match(text, /^ARG BASE=node:24-bookworm-slim$/m);
  assert.deepEqual(text.match(/^FROM .*$/gm), ["FROM ${BASE} AS toolchain", "FROM toolchain AS deps", "FROM deps AS build", "FROM deps AS runtime-deps", "FROM ${BASE}"]);
  assert.match(text, /^RUN npm prune --omit=dev\b/m);
  assert.match(text, /^USER 10001:10001$/m);
  assert.match(text, /^HEALTHCHECK .* CMD \["buildplane", "health"/m);
  assert.match(text, /^ENTRYPOINT \["tini", "--", "buildplane"\]$/m);
  assert.match(text, /^CMD \["serve"\]$/m);
});
