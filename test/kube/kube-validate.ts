import { Job } from "kubernetes-models/batch/v1/Job";
import { Secret } from "kubernetes-models/v1/Secret";
import type { KubeObject, Resource } from "./kube-store.js";
import { invalid } from "./kube-status.js";

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Checks an object the way the API server does before storing it: the
 * OpenAPI schema of its kind (through kubernetes-models' validators), then
 * the rules the schema cannot say (DNS names, label values, a Job's name
 * short enough for the `job-name` label of its pods).
 */
export function validateObject(resource: Resource, body: KubeObject): void {
  const kind = resource === "jobs" ? "Job" : resource === "secrets" ? "Secret" : "Pod";
  const group = resource === "jobs" ? "batch" : "";
  const name = body.metadata?.name ?? "";
  try {
    if (resource === "jobs") new Job(body as ConstructorParameters<typeof Job>[0]).validate();
    if (resource === "secrets") new Secret(body as ConstructorParameters<typeof Secret>[0]).validate();
  } catch (e) {
    throw invalid(kind, group, name, (e as Error).message);
  }
  if (name.length > 253 || !subdomain.test(name)) throw invalid(kind, group, name, `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
  if (resource === "jobs" && name.length > 63) throw invalid(kind, group, name, `metadata.name: Invalid value: "${name}": must be no more than 63 characters`);
  for (const [k, v] of Object.entries(body.metadata?.labels ?? {})) {
    if (v.length > 63 || !labelValue.test(v)) throw invalid(kind, group, name, `metadata.labels: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (label ${k})`);
  }
  if (resource === "secrets" && body["type"] === "kubernetes.io/dockerconfigjson") {
    const data = (body as { data?: Record<string, string> }).data ?? {};
    if (data[".dockerconfigjson"] === undefined) throw invalid(kind, group, name, `data[.dockerconfigjson]: Required value`);
    try { JSON.parse(Buffer.from(data[".dockerconfigjson"], "base64").toString()); } catch {
      throw invalid(kind, group, name, `data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character`);
    }
  }
}
