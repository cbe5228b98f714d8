import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { load, loadAll } from "js-yaml";
import { configSchema, envName } from "../../libs/config/config-schema.js";
import { formatDiagnostic } from "../../libs/config/config-error.js";
import { validateConfigText } from "../../libs/config/validate-config.js";

type Doc = Record<string, unknown> & { kind?: string; metadata?: { name?: string; labels?: Record<string, string> } };
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }
interface PodTemplate { metadata: { labels: Record<string, string> }; spec: { containers: { env?: EnvVar[]; ports: { name?: string; containerPort: number }[] }[] } }

const root = new URL("../../", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), "utf8");
const kubeDocs = (file: string): Doc[] => (loadAll(read(`deploy/kubernetes/overlays/all-in-one/${file}`)) as (Doc | null)[]).filter((d): d is Doc => d !== null);
const template = (kubeDocs("deployment.yaml")[0] as unknown as { spec: { template: PodTemplate } }).spec.template;
const container = template.spec.containers[0];
const configToml = ((kubeDocs("configmap.yaml")[0] as Doc)["data"] as Record<string, string>)["buildplane.toml"] ?? "";
const tokenVar = envName("security", "build_token");
const servicesTokenVar = envName("services", "token");

/** Every `BUILDPLANE_*` variable that carries a secret config key. */
const secretEnv = new Set(configSchema.filter((s) => !s.named).flatMap((s) => s.keys.filter((k) => k.type === "secret").map((k) => envName(s.name, k.key))));

const home = mkdtempSync(join(tmpdir(), "bp-deploy-sec-"));
after(() => rmSync(home, { recursive: true, force: true }));

test("the deployment takes the token from the Secret, required, and no secret as a literal value", () => {
  const env = container?.env ?? [];
  const token = env.find((e) => e.name === tokenVar);
  assert.deepEqual(token?.valueFrom?.secretKeyRef, { name: "buildplane-secrets", key: "build-token" }, "required: no optional flag");
  for (const e of env.filter((v) => secretEnv.has(v.name))) {
    assert.equal(e.value, undefined, `${e.name} is set from a Secret, not written in the manifest`);
    assert.equal(e.valueFrom?.secretKeyRef?.name, "buildplane-secrets", e.name);
  }
  assert.match(read("deploy/kubernetes/overlays/all-in-one/deployment.yaml"), /--from-literal=build-token=/, "the create-secret instructions name the token key");
});

test("the configmap binds all interfaces for the Service but is never open: no opt-out, no token in it, and with the Secret's token the config is complete", () => {
  assert.equal(/allow_unauthenticated\s*=\s*true/.test(configToml), false);
  assert.equal(/_token/.test(configToml), false, "no token ever sits in the ConfigMap");
  const env = {
    HOME: home,
    KUBERNETES_SERVICE_HOST: "10.96.0.1",
    BUILDPLANE_METADATA_DB_CONNECTION: "postgres://buildplane:pw@postgres.buildplane.svc:5432/buildplane",
    [tokenVar]: "from-the-secret",
  };
  const result = validateConfigText(configToml, "buildplane.toml", env);
  assert.deepEqual(result.diagnostics.map(formatDiagnostic), []);
  assert.equal(result.config?.http.host, "0.0.0.0");
  assert.equal(result.config?.security.allowUnauthenticated, false);
  assert.equal(result.config?.security.buildToken?.unwrap(), "from-the-secret");
});

test("the network policy lets in only the server's port, to the server's pods", () => {
  const [policy] = kubeDocs("networkpolicy.yaml") as unknown as {
    spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: { from?: unknown; ports: { protocol: string; port: number }[] }[]; egress?: unknown };
  }[];
  assert.ok(policy);
  for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) assert.equal(template.metadata.labels[k], v, `the server pods carry ${k}=${v}`);
  assert.deepEqual(policy.spec.policyTypes, ["Ingress"]);
  assert.deepEqual(policy.spec.ingress.map((r) => r.ports), [[{ protocol: "TCP", port: 25222 }]]);
  assert.deepEqual(container?.ports.map((p) => p.containerPort), [25222]);
});

test("compose takes the tokens from required variables and publishes only on the host's loopback", () => {
  const text = read("deploy/compose.yaml");
  const compose = load(text) as { services: Record<string, { image?: string; environment?: Record<string, string>; ports?: string[] }> };
  const buildplane = Object.entries(compose.services).filter(([, s]) => s.image === "${BUILDPLANE_IMAGE:-buildplane:dev}");
  assert.ok(buildplane.length >= 6);
  for (const [name, s] of buildplane) {
    assert.match(s.environment?.[tokenVar] ?? "", /^\$\{BUILDPLANE_TOKEN:\?[^}]+\}$/, `${name} requires the token`);
    if (name !== "buildplane") assert.match(s.environment?.[servicesTokenVar] ?? "", /^\$\{BUILDPLANE_SERVICES_TOKEN:\?[^}]+\}$/, `${name} requires the services token`);
    for (const [k, v] of Object.entries(s.environment ?? {})) {
      if (secretEnv.has(k)) assert.match(v, /\$\{[A-Z_]+:\?[^}]+\}/, `${name}: ${k} comes from a required variable`);
    }
    for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${name} publishes ${p} on loopback only`);
  }
  assert.equal(/allow_unauthenticated|ALLOW_UNAUTHENTICATED/.test(text), false);
});
