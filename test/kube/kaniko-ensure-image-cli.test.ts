import { test } from "node:test";
import assert from "node:assert/strict";
import { makeGitRepo } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry } from "../helpers/start-registry.js";
import { tempDir } from "../helpers/temp-dir.js";
import { describeRun, runCli, writeKanikoConfig, writeKubeconfig } from "./kube-cli.js";
import { startTestApiServer } from "./test-api-server.js";

const ns = "builds";

interface Event { readonly type: string; readonly [k: string]: unknown }

test("with a stand-in Kubernetes API server, buildplane build in kaniko mode streams the log, pushes to an authenticated registry and ends ready with the qualified reference", async () => {
  const api = await startTestApiServer();
  const reg = await startRegistry({ htpasswd: true });
  const dir = await tempDir("buildplane-kube-e2e-");
  const repo = await makeGitRepo({
    "app/Containerfile": 'FROM local/busybox:1\nARG PLAIN\nRUN echo "step-$PLAIN"\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n',
    "app/hello.txt": "hello from kaniko mode\n",
  });
  const dockerConfig = `${dir.path}/docker`;
  const docker = (...args: string[]) => runCommand("docker", ["--config", dockerConfig, ...args]);
  let image = "";
  try {
    const kubeconfig = await writeKubeconfig(api, dir.path, ns);
    const config = await writeKanikoConfig({ dir: dir.path, kubeconfig, namespace: ns, registry: reg });
    const run = await runCli(["build", repo.url, "--dir", "app", "--app", "kanikoe2e", "--arg", "PLAIN=visible", "--config", config, "--json"]);
    assert.equal(run.code, 0, describeRun(run));
    const events = run.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Event);
    const last = events.at(-1);
    assert.equal(last?.type, "ready", describeRun(run));
    image = String(last["image"]);
    assert.match(image, new RegExp(`^${reg.host.replaceAll(".", "\\.")}/cli-kanikoe2e:[0-9a-f]{16}$`));
    assert.equal(last["cached"], false);
    assert.match(String(last["digest"]), /^sha256:[0-9a-f]{64}$/);
    assert.equal(events.find((e) => e.type === "started")?.["mode"], "kaniko");
    const logAt = events.findIndex((e) => e.type === "log" && String(e["text"]).includes("step-visible"));
    const pushedAt = events.findIndex((e) => e.type === "pushed");
    assert.ok(logAt >= 0 && logAt < pushedAt, "the build log streams before the push is reported");
    assert.ok(events.some((e) => e.type === "log" && /kaniko job bp-cli-kanikoe2e-[a-z0-9]+ created in namespace builds/.test(String(e["text"]))));
    assert.equal(events[pushedAt]?.["digest"], last["digest"]);
    assert.ok(!run.stdout.includes(reg.password) && !run.stderr.includes(reg.password), "the registry password is never printed");

    const head = await fetch(`${reg.url}/v2/${image.slice(reg.host.length + 1).replace(":", "/manifests/")}`, {
      method: "HEAD",
      headers: {
        authorization: `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString("base64")}`,
        accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
      },
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("docker-content-digest"), last["digest"]);

    await runCommand("docker", ["--config", dockerConfig, "login", "--username", reg.username, "--password-stdin", reg.host], { input: reg.password });
    await docker("pull", "--quiet", image);
    assert.equal((await docker("run", "--rm", image)).stdout, "hello from kaniko mode\n");
    for (const r of ["jobs", "pods", "secrets"] as const) assert.equal(api.store.count(r, ns), 0, `no ${r} left in the namespace`);
  } finally {
    if (image !== "") await docker("rmi", "--force", image).catch(() => undefined);
    await api.close();
    await reg.stop();
    await repo.remove();
    await dir.remove();
  }
});
