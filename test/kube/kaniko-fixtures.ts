import { Readable } from "node:stream";
import { pack } from "tar-stream";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import type { BuildJob, BuildJobArg } from "../../services/builder/image-builder.js";
import { Secret } from "../../libs/secret/secret.js";
import type { TestRegistry } from "../helpers/start-registry.js";

/** An uncompressed tar holding `files`, as the source service streams a context. */
export function contextTar(files: Record<string, string>): Readable {
  const p = pack();
  for (const [name, content] of Object.entries(files)) p.entry({ name, mode: 0o644 }, content);
  p.finalize();
  return Readable.from(p);
}

/** The push target for a test registry, with its htpasswd credentials (or a given password). */
export function pushTarget(reg: TestRegistry, password = reg.password): RegistryTarget {
  return {
    url: reg.host, project: "", type: "", insecure: true, username: reg.username,
    password: password === "" ? undefined : new Secret(password),
    caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: "",
  };
}

let n = 0;
/** A build job of a small image built FROM local/busybox:1. */
export function buildJob(reg: TestRegistry, dockerfile: string, extra: { args?: BuildJobArg[]; password?: string; files?: Record<string, string> } = {}): BuildJob {
  const tag = `${Date.now().toString(16)}${(n++).toString(16)}`;
  const name = `cli-kanikotest:${tag}`;
  return {
    buildId: `build-${tag}`, name, reference: `${reg.host}/${name}`, imageKey: tag, appId: "kanikotest",
    containerfile: "Containerfile", args: extra.args ?? [], target: "", platform: "", labels: {},
    registry: pushTarget(reg, extra.password), context: contextTar({ Containerfile: dockerfile, ...extra.files }),
    contextBytes: undefined, timeoutSecs: 60,
  };
}

/** HEAD of a manifest with Basic auth → the registry's digest (what libs/registry does in production). */
export function checkDigestIn(reg: TestRegistry) {
  return async (reference: string, signal: AbortSignal): Promise<string> => {
    const rest = reference.slice(reg.host.length + 1);
    const colon = rest.lastIndexOf(":");
    const res = await fetch(`${reg.url}/v2/${rest.slice(0, colon)}/manifests/${rest.slice(colon + 1)}`, {
      method: "HEAD", signal,
      headers: {
        authorization: `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString("base64")}`,
        accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
      },
    });
    if (!res.ok) throw new Error(`manifest ${reference}: ${res.status}`);
    return res.headers.get("docker-content-digest") ?? "";
  };
}
