import { test } from "node:test";
import assert from "node:assert/strict";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Secret as KubeSecret } from "kubernetes-models/v1/Secret";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import { Secret } from "../../../libs/secret/secret.js";
import { isDnsLabel, jobName, labelValue, newNameSuffix } from "./kaniko-names.js";
import { resolveKanikoOptions } from "./kaniko-options.js";
import { jobOwnerReference, planKanikoBuild, planToJsonLines, type KanikoPlanInput } from "./kaniko-plan.js";

const registry: RegistryTarget = {
  url: "reg.example:5000/team", project: "proj", type: "", insecure: false, username: "", password: undefined,
  caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: "",
};
const input: KanikoPlanInput = {
  buildId: "b-1", name: "cli-app1:0123456789abcdef", reference: "reg.example:5000/team/proj/cli-app1:0123456789abcdef",
  imageKey: "ab".repeat(32), appId: "app1", containerfile: "Containerfile",
  args: [{ name: "ZED", value: "z" }, { name: "ALPHA", value: "a b" }], target: "", platform: "", registry,
  labels: { "org.opencontainers.image.revision": "0123abc", "buildplane.app": "app1" }, timeoutSecs: 900,
};
const options = resolveKanikoOptions({ namespace: "builds", kanikoImage: "kaniko:1" });

function argsOf(plan: ReturnType<typeof planKanikoBuild>): string[] {
  return plan.job.spec?.template.spec?.containers[0]?.args ?? [];
}

const argCases: { name: string; input?: Partial<KanikoPlanInput>; target?: Partial<RegistryTarget>; options?: Parameters<typeof resolveKanikoOptions>[0]; want: string[]; absent?: string[] }[] = [
  { name: "context, dockerfile and destination come first", want: ["--context=tar://stdin", "--dockerfile=Containerfile", "--destination=reg.example:5000/team/proj/cli-app1:0123456789abcdef"] },
  { name: "build args are in sorted order", want: ["--build-arg=ALPHA=a b", "--build-arg=ZED=z"] },
  { name: "the build's labels become --label flags in sorted order, as engine builds carry them", want: ["--label=buildplane.app=app1", "--label=org.opencontainers.image.revision=0123abc"] },
  { name: "a build without labels adds no --label", input: { labels: {} }, want: [], absent: ["--label="] },
  { name: "a target adds --target", input: { target: "prod" }, want: ["--target=prod"] },
  { name: "no target adds no --target", want: [], absent: ["--target="] },
  { name: "a platform adds --custom-platform", input: { platform: "linux/arm64" }, want: ["--custom-platform=linux/arm64"] },
  { name: "the cache uses url/project/kaniko-cache by default", options: { cache: true }, want: ["--cache=true", "--cache-repo=reg.example:5000/team/proj/kaniko-cache"] },
  { name: "the cache uses the configured repo", options: { cache: true, cacheRepo: "r/c" }, want: ["--cache=true", "--cache-repo=r/c"] },
  { name: "no cache adds no cache flags", want: [], absent: ["--cache"] },
  { name: "an insecure registry names its host", target: { insecure: true }, want: ["--insecure-registry=reg.example:5000"] },
  { name: "a CA adds --registry-certificate", target: { caPem: "CA" }, want: ["--registry-certificate=reg.example:5000=/certs/reg.example_5000-ca.crt"] },
  { name: "a client certificate adds --registry-client-cert", target: { clientCertPem: "C", clientKeyPem: new Secret("K") }, want: ["--registry-client-cert=reg.example:5000=/certs/reg.example_5000-client.crt,/certs/reg.example_5000-client.key"] },
  { name: "the digest goes to the termination log", want: ["--digest-file=/dev/termination-log"] },
];

for (const c of argCases) {
  test(`planner: ${c.name}`, () => {
    const plan = planKanikoBuild({ ...input, ...c.input, registry: { ...registry, ...c.target } }, resolveKanikoOptions({ ...options, ...c.options }), "abcdefghij");
    const args = argsOf(plan);
    const at = c.want.map((w) => args.indexOf(w));
    assert.ok(at.every((i) => i >= 0), `missing ${JSON.stringify(c.want)} in ${JSON.stringify(args)}`);
    assert.deepEqual([...at].sort((a, b) => a - b), at, "in order");
    for (const a of c.absent ?? []) assert.ok(!args.some((x) => x.startsWith(a)), `${a} must be absent`);
  });
}

test("planner: a secret build arg is absent from the Job spec and read from a Secret through env", () => {
  const plan = planKanikoBuild({ ...input, args: [{ name: "TOKEN", value: new Secret("s3cr3t-value") }] }, options, "abcdefghij");
  const spec = JSON.stringify(plan.job);
  assert.ok(!spec.includes("s3cr3t-value"));
  assert.ok(!spec.includes(Buffer.from("s3cr3t-value").toString("base64")));
  assert.ok(argsOf(plan).includes("--build-arg=TOKEN"));
  const env = plan.job.spec?.template.spec?.containers[0]?.env ?? [];
  assert.deepEqual(env, [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: `${plan.jobName}-args`, key: "arg-0" } } }]);
  const argSecret = plan.secrets.find((s) => s.metadata?.name === `${plan.jobName}-args`);
  assert.equal(Buffer.from(argSecret?.data?.["arg-0"] ?? "", "base64").toString(), "s3cr3t-value");
  assert.ok(!planToJsonLines(plan).join("\n").includes(argSecret?.data?.["arg-0"] ?? "x"));
});

test("planner: a secret build arg that is not an environment variable name is refused", () => {
  assert.throws(() => planKanikoBuild({ ...input, args: [{ name: "a-b", value: new Secret("v") }] }, options, "abcdefghij"), (e: unknown) => {
    assert.equal((e as { code: string }).code, "invalidArgument");
    assert.equal((e as Error).message, 'secret build arg "a-b" is not a valid environment variable name: expected letters, digits and _ not starting with a digit');
    return true;
  });
});

test("planner: a build without a registry is refused", () => {
  assert.throws(() => planKanikoBuild({ ...input, registry: undefined }, options, "abcdefghij"), (e: unknown) => {
    assert.equal((e as { code: string }).code, "failedPrecondition");
    assert.equal((e as Error).message, 'build "b-1" has no registry: the kaniko mode pushes to a registry, set [registry] url');
    return true;
  });
});

test("planner: the docker config is mounted as /kaniko/.docker/config.json with basic auth", () => {
  const plan = planKanikoBuild({ ...input, registry: { ...registry, username: "u", password: new Secret("p") } }, options, "abcdefghij");
  const pod = plan.job.spec?.template.spec;
  const vol = pod?.volumes?.find((v) => v.name === "docker-config");
  assert.deepEqual(vol?.secret?.items, [{ key: ".dockerconfigjson", path: "config.json" }]);
  assert.equal(vol?.secret?.secretName, `${plan.jobName}-docker`);
  assert.deepEqual(pod?.containers[0]?.volumeMounts?.[0], { name: "docker-config", mountPath: "/kaniko/.docker", readOnly: true });
  const cfg = JSON.parse(Buffer.from(plan.secrets[0]?.data?.[".dockerconfigjson"] ?? "", "base64").toString()) as unknown;
  assert.deepEqual(cfg, { auths: { "reg.example:5000": { auth: Buffer.from("u:p").toString("base64"), username: "u", password: "p" } } });
  assert.equal(plan.secrets[0]?.type, "kubernetes.io/dockerconfigjson");
});

test("planner: an ECR registry gets the ecr-login credential helper", () => {
  const plan = planKanikoBuild({ ...input, registry: { ...registry, type: "ecr", url: "1.dkr.ecr.eu-west-1.amazonaws.com" } }, options, "abcdefghij");
  const cfg = JSON.parse(Buffer.from(plan.secrets[0]?.data?.[".dockerconfigjson"] ?? "", "base64").toString()) as unknown;
  assert.deepEqual(cfg, { credHelpers: { "1.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login" } });
});

test("planner: a CA and a client certificate go into a certs Secret mounted at /certs", () => {
  const plan = planKanikoBuild({ ...input, registry: { ...registry, caPem: "CA", clientCertPem: "C", clientKeyPem: new Secret("K") } }, options, "abcdefghij");
  const certs = plan.secrets.find((s) => s.metadata?.name === `${plan.jobName}-certs`);
  assert.deepEqual(Object.keys(certs?.data ?? {}).sort(), ["reg.example_5000-ca.crt", "reg.example_5000-client.crt", "reg.example_5000-client.key"]);
  assert.ok(plan.job.spec?.template.spec?.containers[0]?.volumeMounts?.some((m) => m.mountPath === "/certs"));
});

test("planner: the Job's deadline is the build's own timeout", () => {
  assert.equal(planKanikoBuild({ ...input, timeoutSecs: 42 }, options, "abcdefghij").job.spec?.activeDeadlineSeconds, 42);
});

test("planner: the Job has backoffLimit 0, the deadline, a TTL, stdin once, and the labels", () => {
  const plan = planKanikoBuild(input, options, "abcdefghij");
  const spec = plan.job.spec;
  assert.equal(spec?.backoffLimit, 0);
  assert.equal(spec?.activeDeadlineSeconds, 900);
  assert.equal(spec?.ttlSecondsAfterFinished, 600);
  const c = spec?.template.spec?.containers[0];
  assert.equal(c?.stdin, true);
  assert.equal(c?.stdinOnce, true);
  assert.equal(spec?.template.spec?.restartPolicy, "Never");
  assert.deepEqual(plan.job.metadata?.labels, {
    "app.kubernetes.io/managed-by": "buildplane", "buildplane.dev/app": "app1",
    "buildplane.dev/image-key": labelValue("ab".repeat(32)), "buildplane.dev/build-id": "b-1",
  });
  for (const s of plan.secrets) assert.deepEqual(s.metadata?.labels, plan.job.metadata?.labels);
  assert.equal(plan.job.metadata?.namespace, "builds");
});

test("planner: resources, service account, node selector and tolerations are passed through", () => {
  const plan = planKanikoBuild(input, resolveKanikoOptions({
    ...options, serviceAccount: "builder", nodeSelector: { pool: "build" },
    tolerations: [{ key: "dedicated", operator: "Equal", value: "build", effect: "NoSchedule" }],
    resources: { requests: { cpu: "500m" }, limits: { memory: "2Gi" } },
  }), "abcdefghij");
  const pod = plan.job.spec?.template.spec;
  assert.equal(pod?.serviceAccountName, "builder");
  assert.deepEqual(pod?.nodeSelector, { pool: "build" });
  assert.deepEqual(pod?.tolerations, [{ key: "dedicated", operator: "Equal", value: "build", effect: "NoSchedule" }]);
  assert.deepEqual(pod?.containers[0]?.resources, { requests: { cpu: "500m" }, limits: { memory: "2Gi" } });
});

test("planner: pod labels and annotations go on the pod template only, and buildplane's labels win", () => {
  const plan = planKanikoBuild(input, resolveKanikoOptions({
    ...options,
    podLabels: { team: "web", "sidecar.istio.io/inject": "false" },
    podAnnotations: { "sidecar.istio.io/inject": "false", "linkerd.io/inject": "disabled" },
  }), "abcdefghij");
  const meta = plan.job.spec?.template.metadata;
  assert.deepEqual(meta?.annotations, { "sidecar.istio.io/inject": "false", "linkerd.io/inject": "disabled" });
  assert.deepEqual(meta?.labels, { team: "web", "sidecar.istio.io/inject": "false", ...plan.labels });
  assert.equal(plan.job.metadata?.labels?.["team"], undefined, "the Job keeps buildplane's labels only");
  assert.equal(plan.job.metadata?.annotations?.["linkerd.io/inject"], undefined);
  const plain = planKanikoBuild(input, options, "abcdefghij").job.spec?.template.metadata;
  assert.deepEqual(plain, { labels: { ...plan.labels } }, "no annotations without the keys");
});

test("planner: two builds of the same image in the same millisecond get different names", () => {
  const a = planKanikoBuild(input, options, newNameSuffix());
  const b = planKanikoBuild(input, options, newNameSuffix());
  assert.notEqual(a.jobName, b.jobName);
  assert.notEqual(a.secrets[0]?.metadata?.name, b.secrets[0]?.metadata?.name);
});

test("planner: names are DNS labels that leave room for the pod suffix", () => {
  for (const name of ["cli-app1:0123456789abcdef", `cli-${"x".repeat(80)}:ffff`, "CLI_Upper.Case:1", "---:x", ""]) {
    const n = jobName(name, newNameSuffix());
    assert.ok(isDnsLabel(n) && n.length <= 52, n);
    assert.ok(isDnsLabel(`${n}-docker`) && isDnsLabel(`${n}-certs`) && isDnsLabel(`${n}-abcde`), n);
  }
});

test("planner: long or odd label values are cut and hashed into valid values", () => {
  for (const v of ["x".repeat(100), "-a b-", "ok.value_1"]) {
    const l = labelValue(v);
    assert.ok(l.length <= 63 && /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(l), l);
  }
  assert.equal(labelValue("ok.value_1"), "ok.value_1");
  assert.notEqual(labelValue("x".repeat(100)), labelValue("x".repeat(101)));
});

test("planner: the owner reference points at the Job by name and UID", () => {
  assert.deepEqual(jobOwnerReference("bp-x", "uid-1"), { apiVersion: "batch/v1", kind: "Job", name: "bp-x", uid: "uid-1", blockOwnerDeletion: true, controller: false });
});

test("planner: the planned objects are valid against the Kubernetes schema", () => {
  const plan = planKanikoBuild({ ...input, args: [{ name: "T", value: new Secret("v") }], registry: { ...registry, caPem: "CA" } },
    resolveKanikoOptions({ ...options, resources: { requests: { cpu: "1" }, limits: {} }, tolerations: [{ operator: "Exists" }] }), newNameSuffix());
  new Job(plan.job as ConstructorParameters<typeof Job>[0]).validate();
  for (const s of plan.secrets) new KubeSecret(s as ConstructorParameters<typeof KubeSecret>[0]).validate();
});

test("planner: dry-run lines redact every Secret's data", () => {
  const plan = planKanikoBuild({ ...input, registry: { ...registry, username: "u", password: new Secret("pw") } }, options, "abcdefghij");
  const lines = planToJsonLines(plan);
  assert.equal(lines.length, 2);
  assert.deepEqual((JSON.parse(lines[0] ?? "{}") as { data: unknown }).data, { ".dockerconfigjson": "***" });
});
