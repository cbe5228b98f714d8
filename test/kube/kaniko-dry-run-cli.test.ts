import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { V1Job, V1Secret } from "@kubernetes/client-node";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { describeRun, runCli, writeKanikoConfig, writeKubeconfig } from "./kube-cli.js";
import { startTestApiServer, type TestApiServer } from "./test-api-server.js";

const ns = "builds";
const secretValue = "tok-secret-value-123";
let api: TestApiServer;
let reg: TestRegistry;
let repo: TestGitRepo;
let dir: TempDir;
let kubeconfig: string;
const events: string[] = [];

before(async () => {
  api = await startTestApiServer();
  api.store.subscribe(undefined, (e) => events.push(`${e.type} ${e.resource} ${e.object.metadata?.name ?? ""}`));
  reg = await startRegistry({ htpasswd: true });
  repo = await makeGitRepo({ "app/Containerfile": "FROM local/busybox:1\nARG TOKEN\nARG PLAIN\nRUN echo step-$PLAIN\n" });
  dir = await tempDir("buildplane-kube-dry-run-");
  kubeconfig = await writeKubeconfig(api, dir.path, ns);
});

after(async () => {
  await api.close();
  await reg.stop();
  await repo.remove();
  await dir.remove();
});

test("with a stand-in Kubernetes API server, build --dry-run prints the Secrets and the Job as JSON lines, secret data redacted, and creates nothing", async () => {
  const config = await writeKanikoConfig({ dir: dir.path, kubeconfig, namespace: ns, registry: reg });
  const run = await runCli(
    ["build", repo.url, "--dir", "app", "--app", "demo", "--arg", "PLAIN=visible", "--secret-arg", "TOKEN", "--config", config, "--dry-run"],
    { TOKEN: secretValue },
  );
  assert.equal(run.code, 0, describeRun(run));
  const lines = run.stdout.trimEnd().split("\n");
  const objects = lines.map((l) => JSON.parse(l) as { kind: string });
  assert.deepEqual(objects.map((o) => o.kind), ["Secret", "Secret", "Job"], "the docker config and the secret args, then the Job");

  const secrets = objects.slice(0, 2) as V1Secret[];
  for (const s of secrets) {
    assert.equal(s.metadata?.namespace, ns);
    assert.ok(Object.keys(s.data ?? {}).length > 0);
    for (const v of Object.values(s.data ?? {})) assert.equal(v, "***");
  }
  const job = objects[2] as V1Job;
  const container = job.spec?.template.spec?.containers[0];
  const args = container?.args ?? [];
  const destination = args.find((a) => a.startsWith("--destination="))?.slice("--destination=".length) ?? "";
  assert.match(destination, new RegExp(`^${reg.host.replaceAll(".", "\\.")}/cli-demo:[0-9a-f]{16}$`));
  assert.ok(job.metadata?.name?.startsWith("bp-cli-demo-"), job.metadata?.name);
  assert.equal(job.metadata?.namespace, ns);
  assert.equal(container?.image, "kaniko-test/executor:1");
  assert.equal(job.spec?.activeDeadlineSeconds, 120);
  assert.equal(job.spec?.backoffLimit, 0);
  assert.equal(job.metadata?.labels?.["buildplane.dev/app"], "demo");
  assert.deepEqual(args.filter((a) => a.startsWith("--build-arg")), ["--build-arg=PLAIN=visible", "--build-arg=TOKEN"], "sorted, the secret one by name only");
  assert.ok(args.includes("--dockerfile=Containerfile"), "the containerfile the source service found");
  const labels = args.filter((a) => a.startsWith("--label="));
  const imageKey = /^--label=buildplane\.image-key=([0-9a-f]{64})$/.exec(labels[2] ?? "")?.[1] ?? "";
  assert.ok(imageKey.startsWith((job.metadata?.labels?.["buildplane.dev/image-key"] ?? "").slice(0, 40)), "the image key the objects are labelled with");
  assert.deepEqual(labels, [
    "--label=buildplane.app=demo",
    "--label=buildplane.build-id=dry-run",
    `--label=buildplane.image-key=${imageKey}`,
    `--label=org.opencontainers.image.revision=${repo.commit}`,
  ], "the labels a real build puts on the image, from the same header builder (a file:// source has no source label)");
  assert.ok(args.includes(`--insecure-registry=${reg.host}`));
  const tokenEnv = container?.env?.find((e) => e.name === "TOKEN");
  assert.equal(tokenEnv?.value, undefined);
  assert.equal(tokenEnv?.valueFrom?.secretKeyRef?.name, secrets[1]?.metadata?.name);

  for (const leak of [secretValue, Buffer.from(secretValue).toString("base64"), reg.password, Buffer.from(reg.password).toString("base64")]) {
    assert.ok(!run.stdout.includes(leak) && !run.stderr.includes(leak), "no secret value is printed");
  }
  assert.deepEqual(events, [], "the API server saw no object created");
  for (const r of ["jobs", "secrets", "pods"] as const) assert.equal(api.store.count(r, ns), 0);
});

test("with a stand-in Kubernetes API server configured, build --dry-run in a mode other than kaniko exits 2, says which mode is in effect and creates nothing", async () => {
  const sub = await tempDir("buildplane-kube-dry-run-");
  try {
    const config = await writeKanikoConfig({ dir: sub.path, kubeconfig, namespace: ns, registry: reg, mode: "command" });
    const run = await runCli(["build", repo.url, "--dir", "app", "--config", config, "--dry-run"]);
    assert.equal(run.code, 2, describeRun(run));
    assert.equal(run.stdout, "");
    assert.equal(run.stderr, "buildplane: --dry-run shows the Kubernetes objects of builder.mode kaniko; the effective mode is command\n");
    assert.deepEqual(events, [], "the API server saw no object created");
  } finally {
    await sub.remove();
  }
});

test("with a stand-in Kubernetes API server configured, build --dry-run with --server exits 2 and creates nothing: the plan comes from this machine's configuration", async () => {
  const sub = await tempDir("buildplane-kube-dry-run-");
  try {
    const config = await writeKanikoConfig({ dir: sub.path, kubeconfig, namespace: ns, registry: reg });
    const run = await runCli(["build", repo.url, "--dir", "app", "--config", config, "--server", "http://127.0.0.1:1", "--dry-run"]);
    assert.equal(run.code, 2, describeRun(run));
    assert.equal(run.stderr, "buildplane: --dry-run plans with this machine's configuration and cannot be combined with --server\n");
    assert.deepEqual(events, [], "the API server saw no object created");
  } finally {
    await sub.remove();
  }
});
