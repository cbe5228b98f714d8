import type { V1EnvVar, V1Job, V1OwnerReference, V1Secret, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import type { BuildJob } from "../image-builder.js";
import { Secret } from "../../../libs/secret/secret.js";
import { dockerConfigJson, registryHost } from "./docker-config.js";
import { RegistryRequiredError } from "../build-errors.js";
import { SecretArgNameError } from "./kaniko-errors.js";
import { jobName, labelValue } from "./kaniko-names.js";
import type { KanikoOptions } from "./kaniko-options.js";

/** The build fields the planner reads (the context stream stays with the executor). */
export type KanikoPlanInput = Pick<BuildJob,
  "buildId" | "name" | "reference" | "imageKey" | "appId" | "containerfile" | "args" | "target" | "platform" | "registry" | "labels" | "timeoutSecs">;

/** What one kaniko build creates: Secrets first, then the Job that mounts them. */
export interface KanikoPlan {
  readonly jobName: string;
  readonly namespace: string;
  readonly job: V1Job;
  readonly secrets: readonly V1Secret[];
  /** Labels on every object, for the sweeper and for operators. */
  readonly labels: Readonly<Record<string, string>>;
  /** Where the image is pushed. */
  readonly target: RegistryTarget;
}

export const containerName = "kaniko";
export const managedByLabel = "app.kubernetes.io/managed-by";
export const managedByValue = "buildplane";
export const buildIdLabel = "buildplane.dev/build-id";
/** The install (metadata database) whose build made the object. */
export const installLabel = "buildplane.dev/install";
const certsDir = "/certs";

/**
 * Build → the Kubernetes objects of one kaniko build, purely (the random
 * `suffix` comes from the caller). Fixes OpenRun's faults: the docker config
 * is mounted as `config.json`, names are unique per build, Secrets carry the
 * build's labels (owner references are added once the Job has a UID), the
 * Job's deadline is the build's own timeout, the image carries the build's
 * labels (`--label`, as engine builds do), and secret build arg values reach Kaniko only through
 * `secretKeyRef` env (`--build-arg=NAME` reads the value from the
 * environment), never through the Job spec.
 */
export function planKanikoBuild(input: KanikoPlanInput, options: KanikoOptions, suffix: string): KanikoPlan {
  const target = input.registry;
  if (target === undefined) throw new RegistryRequiredError("kaniko", input.buildId);
  const name = jobName(input.name, suffix);
  const host = registryHost(target.url);
  const labels = {
    [managedByLabel]: managedByValue,
    "buildplane.dev/app": labelValue(input.appId),
    "buildplane.dev/image-key": labelValue(input.imageKey),
    [buildIdLabel]: labelValue(input.buildId),
    ...(options.installId ? { [installLabel]: options.installId } : {}),
  };
  // The raw build id rides in an annotation: the label may be cut and hashed.
  const annotations = { [buildIdLabel]: input.buildId };
  const meta = (n: string) => ({ name: n, namespace: options.namespace, labels: { ...labels }, annotations: { ...annotations } });

  const args = [`--context=tar://stdin`, `--dockerfile=${input.containerfile}`, `--destination=${input.reference}`];
  const env: V1EnvVar[] = [];
  const argSecretName = `${name}-args`;
  const argData: Record<string, string> = {};
  const sorted = [...input.args].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const [i, arg] of sorted.entries()) {
    if (arg.value instanceof Secret) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg.name)) throw new SecretArgNameError(arg.name);
      const key = `arg-${i}`;
      argData[key] = b64(arg.value.unwrap());
      env.push({ name: arg.name, valueFrom: { secretKeyRef: { name: argSecretName, key } } });
      args.push(`--build-arg=${arg.name}`);
    } else {
      args.push(`--build-arg=${arg.name}=${arg.value}`);
    }
  }
  for (const key of Object.keys(input.labels).sort()) args.push(`--label=${key}=${input.labels[key] ?? ""}`);
  if (input.target !== "") args.push(`--target=${input.target}`);
  if (input.platform !== "") args.push(`--custom-platform=${input.platform}`);
  if (options.cache) {
    const repo = options.cacheRepo !== "" ? options.cacheRepo : [target.url, target.project, "kaniko-cache"].filter((p) => p !== "").join("/");
    args.push("--cache=true", `--cache-repo=${repo}`);
  }
  if (target.insecure) args.push(`--insecure-registry=${host}`);
  const certData: Record<string, string> = {};
  const fileHost = host.replaceAll(":", "_");
  if (target.caPem !== "") {
    certData[`${fileHost}-ca.crt`] = b64(target.caPem);
    args.push(`--registry-certificate=${host}=${certsDir}/${fileHost}-ca.crt`);
  }
  if (target.clientCertPem !== "" && target.clientKeyPem !== undefined) {
    certData[`${fileHost}-client.crt`] = b64(target.clientCertPem);
    certData[`${fileHost}-client.key`] = b64(target.clientKeyPem.unwrap());
    args.push(`--registry-client-cert=${host}=${certsDir}/${fileHost}-client.crt,${certsDir}/${fileHost}-client.key`);
  }
  // Kaniko writes the pushed digest here; the kubelet reports it as the termination message.
  args.push("--digest-file=/dev/termination-log");

  const dockerSecret: V1Secret = {
    apiVersion: "v1", kind: "Secret", metadata: meta(`${name}-docker`),
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": b64(dockerConfigJson(target)) },
  };
  const secrets: V1Secret[] = [dockerSecret];
  const volumes: V1Volume[] = [{
    name: "docker-config",
    secret: { secretName: `${name}-docker`, defaultMode: 0o400, items: [{ key: ".dockerconfigjson", path: "config.json" }] },
  }];
  const mounts: V1VolumeMount[] = [{ name: "docker-config", mountPath: "/kaniko/.docker", readOnly: true }];
  if (Object.keys(certData).length > 0) {
    secrets.push({ apiVersion: "v1", kind: "Secret", metadata: meta(`${name}-certs`), type: "Opaque", data: certData });
    volumes.push({ name: "certs", secret: { secretName: `${name}-certs`, defaultMode: 0o400 } });
    mounts.push({ name: "certs", mountPath: certsDir, readOnly: true });
  }
  if (env.length > 0) {
    secrets.push({ apiVersion: "v1", kind: "Secret", metadata: meta(argSecretName), type: "Opaque", data: argData });
  }

  const resources = {
    ...(Object.keys(options.resources.requests).length > 0 ? { requests: { ...options.resources.requests } } : {}),
    ...(Object.keys(options.resources.limits).length > 0 ? { limits: { ...options.resources.limits } } : {}),
  };
  const job: V1Job = {
    apiVersion: "batch/v1", kind: "Job", metadata: meta(name),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: input.timeoutSecs,
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished,
      template: {
        // The pod's own labels and annotations ([kubernetes] pod_labels,
        // pod_annotations): a mesh's sidecar opt-out goes on the pod, where
        // the injector looks; buildplane's labels win over the configured ones.
        metadata: {
          labels: { ...options.podLabels, ...labels },
          ...(Object.keys(options.podAnnotations).length > 0 ? { annotations: { ...options.podAnnotations } } : {}),
        },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          ...(options.serviceAccount !== "" ? { serviceAccountName: options.serviceAccount } : {}),
          ...(Object.keys(options.nodeSelector).length > 0 ? { nodeSelector: { ...options.nodeSelector } } : {}),
          ...(options.tolerations.length > 0 ? { tolerations: options.tolerations.map((t) => ({ ...t })) } : {}),
          volumes,
          containers: [{
            name: containerName,
            image: options.kanikoImage,
            args,
            stdin: true,
            stdinOnce: true,
            tty: false,
            terminationMessagePolicy: "File",
            ...(env.length > 0 ? { env } : {}),
            ...(Object.keys(resources).length > 0 ? { resources } : {}),
            volumeMounts: mounts,
          }],
        },
      },
    },
  };
  return { jobName: name, namespace: options.namespace, job, secrets, labels, target };
}

/** The owner reference that makes a Secret go with its Job (garbage collection). */
export function jobOwnerReference(job: string, uid: string): V1OwnerReference {
  return { apiVersion: "batch/v1", kind: "Job", name: job, uid, blockOwnerDeletion: true, controller: false };
}

/** The plan with every Secret's data replaced by `***`, for `--dry-run` output and logs. */
export function redactPlan(plan: KanikoPlan): KanikoPlan {
  const secrets = plan.secrets.map((s) => ({
    ...s, data: Object.fromEntries(Object.keys(s.data ?? {}).map((k) => [k, "***"])),
  }));
  return { ...plan, secrets };
}

/** The objects of a plan as JSON lines (Secrets first, data redacted): what `build --dry-run` prints. */
export function planToJsonLines(plan: KanikoPlan): string[] {
  const red = redactPlan(plan);
  return [...red.secrets.map((s) => JSON.stringify(s)), JSON.stringify(red.job)];
}

function b64(s: string): string {
  return Buffer.from(s, "utf8").toString("base64");
}
