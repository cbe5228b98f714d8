import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import { Secret } from "../../libs/secret/secret.js";
import type { BuildJob } from "../../services/builder/image-builder.js";
import { createKanikoBuilder } from "../../services/builder/kaniko/kaniko-builder.js";
import { resolveKanikoOptions } from "../../services/builder/kaniko/kaniko-options.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { buildJob, checkDigestIn } from "./kaniko-fixtures.js";
import type { KubeObject } from "./kube-store.js";
import { startTestApiServer, type TestApiServer } from "./test-api-server.js";

// Each registry has its own fresh CA, so no engine or system trust store knows it.
let tlsReg: TestRegistry;
let mtlsReg: TestRegistry;
let plainReg: TestRegistry;
before(async () => {
  [tlsReg, mtlsReg, plainReg] = await Promise.all([
    startRegistry({ tls: true, htpasswd: true }), startRegistry({ clientCa: true, htpasswd: true }), startRegistry({ htpasswd: true }),
  ]);
});
after(async () => { await Promise.all([tlsReg.stop(), mtlsReg.stop(), plainReg.stop()]); });

/** A build for `reg` whose push target carries only the given TLS settings (not insecure unless said). */
function jobFor(reg: TestRegistry, tls: Partial<Pick<RegistryTarget, "insecure" | "caPem" | "clientCertPem" | "clientKeyPem">>): BuildJob {
  const job = buildJob(reg, "FROM local/busybox:1\nRUN echo over-tls > /tls\n");
  const registry = job.registry as RegistryTarget;
  return { ...job, registry: { ...registry, insecure: false, ...tls } };
}

/** HEAD of the manifest over HTTPS trusting the registry's CA (and presenting its client certificate) → the registry's digest. */
function checkDigestOverTls(reg: TestRegistry) {
  return (reference: string, signal: AbortSignal): Promise<string> => new Promise((resolve, reject) => {
    const rest = reference.slice(reg.host.length + 1);
    const colon = rest.lastIndexOf(":");
    const req = request(`${reg.url}/v2/${rest.slice(0, colon)}/manifests/${rest.slice(colon + 1)}`, {
      method: "HEAD", signal, ca: reg.caPem, cert: reg.clientCertPem || undefined, key: reg.clientKeyPem || undefined,
      headers: {
        authorization: `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString("base64")}`,
        accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
      },
    }, (res) => {
      res.resume();
      if (res.statusCode !== 200) reject(new Error(`manifest ${reference}: ${res.statusCode}`));
      else resolve(String(res.headers["docker-content-digest"] ?? ""));
    });
    req.once("error", reject);
    req.end();
  });
}

async function build(reg: TestRegistry, job: BuildJob, seen: { certs?: KubeObject } = {}) {
  const api: TestApiServer = await startTestApiServer();
  try {
    api.store.subscribe(undefined, (e) => {
      if (e.resource === "secrets" && e.type === "ADDED" && e.object.metadata?.name?.endsWith("-certs") === true) seen.certs = e.object;
    });
    const builder = createKanikoBuilder({
      kubeConfig: api.kubeConfig(), checkDigest: (reference, _target, signal) => (reg.caPem === "" ? checkDigestIn(reg) : checkDigestOverTls(reg))(reference, signal),
      options: resolveKanikoOptions({ namespace: "builds", kanikoImage: "kaniko-test/executor:1", podStartTimeoutSecs: 30 }),
    });
    return await builder.build(job, () => undefined, new AbortController().signal);
  } finally {
    await api.close();
  }
}

function rejectsWith(code: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, String(e));
    assert.match((e as Error).message, pattern);
    return true;
  };
}

const decode = (s: KubeObject | undefined, key: string): string =>
  Buffer.from((s as { data?: Record<string, string> } | undefined)?.data?.[key] ?? "", "base64").toString();

test("with a stand-in Kubernetes API server and Kaniko emulator, a build pushes to a TLS registry trusting only the CA from the mounted certs Secret", async () => {
  const job = jobFor(tlsReg, { caPem: tlsReg.caPem });
  const seen: { certs?: KubeObject } = {};
  const out = await build(tlsReg, job, seen);
  assert.equal(out.reference, job.reference);
  assert.match(out.digest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(out.digest, await checkDigestOverTls(tlsReg)(job.reference, AbortSignal.timeout(5000)), "the image is in the registry with the reported digest");
  assert.equal(decode(seen.certs, `${tlsReg.host.replace(":", "_")}-ca.crt`), tlsReg.caPem, "the CA reached Kaniko through the certs Secret");
});

test("with a stand-in Kubernetes API server and Kaniko emulator, a push to a TLS registry whose CA is not given fails on the certificate", async () => {
  const job = jobFor(tlsReg, {});
  await assert.rejects(build(tlsReg, job), rejectsWith("failedPrecondition",
    new RegExp(`error pushing image: failed to push to destination ${job.reference.replaceAll(".", "\\.")}: Get "https://${tlsReg.host}/v2/": .*certificate`)));
});

test("with a stand-in Kubernetes API server and Kaniko emulator, a build pushes to a registry requiring a client certificate with the pair from the certs Secret", async () => {
  const job = jobFor(mtlsReg, { caPem: mtlsReg.caPem, clientCertPem: mtlsReg.clientCertPem, clientKeyPem: new Secret(mtlsReg.clientKeyPem) });
  const seen: { certs?: KubeObject } = {};
  const out = await build(mtlsReg, job, seen);
  assert.equal(out.digest, await checkDigestOverTls(mtlsReg)(job.reference, AbortSignal.timeout(5000)), "the image is in the registry with the reported digest");
  const fileHost = mtlsReg.host.replace(":", "_");
  assert.equal(decode(seen.certs, `${fileHost}-client.crt`), mtlsReg.clientCertPem);
  assert.equal(decode(seen.certs, `${fileHost}-client.key`), mtlsReg.clientKeyPem);
});

test("with a stand-in Kubernetes API server and Kaniko emulator, a push to a registry requiring a client certificate fails without one", async () => {
  const job = jobFor(mtlsReg, { caPem: mtlsReg.caPem });
  await assert.rejects(build(mtlsReg, job), rejectsWith("failedPrecondition",
    /error pushing image: failed to push to destination .*: Get "https:\/\/127\.0\.0\.1:\d+\/v2\/": .*(bad certificate|certificate required)/));
});

test("with a stand-in Kubernetes API server and Kaniko emulator, a push to a plain HTTP registry is refused without --insecure-registry", async () => {
  const job = jobFor(plainReg, { insecure: false });
  await assert.rejects(build(plainReg, job), rejectsWith("failedPrecondition",
    new RegExp(`error pushing image: failed to push to destination [^:]+:\\d+/[^ ]+: Get "https://${plainReg.host}/v2/": `)));
});

test("with a stand-in Kubernetes API server and Kaniko emulator, a push to a plain HTTP registry works with --insecure-registry", async () => {
  const job = jobFor(plainReg, { insecure: true });
  const out = await build(plainReg, job);
  assert.equal(out.digest, await checkDigestIn(plainReg)(job.reference, AbortSignal.timeout(5000)));
});
