import type { KeyValue, ValueProblem } from "./config-schema.js";

/**
 * Checks of `[kubernetes]` values against the rules the Kubernetes API
 * applies to them, so a mistake is reported at load with its line instead
 * of as a 422 from the API server at the first build.
 */

const dnsLabel = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const prefixPattern = new RegExp(`^${dnsLabel}(\\.${dnsLabel})*$`);
const namePattern = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const quantityPattern = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const suffixes: Readonly<Record<string, number>> = {
  "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** True for a Kubernetes qualified name: `[dns-subdomain/]name`, as label keys and resource names are written. */
export function isQualifiedName(text: string): boolean {
  const slash = text.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : text.slice(0, slash);
  const name = slash < 0 ? text : text.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !prefixPattern.test(prefix))) return false;
  return name.length <= 63 && namePattern.test(name);
}

/** The amount a non-negative Kubernetes quantity (`500m`, `2Gi`, `1e3`) stands for, or undefined when it is not one. */
export function parseQuantity(text: string): number | undefined {
  const m = quantityPattern.exec(text);
  if (!m) return undefined;
  const number = Number(m[1]);
  const suffix = m[3] ?? "";
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  const factor = suffixes[suffix];
  return factor === undefined ? undefined : number * factor;
}

const asRecord = (v: KeyValue): Readonly<Record<string, unknown>> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Readonly<Record<string, unknown>>) : {};

/** `resources_requests` / `resources_limits`: resource names and quantities. */
export function checkResources(value: KeyValue): ValueProblem | undefined {
  for (const [name, amount] of Object.entries(asRecord(value))) {
    if (!isQualifiedName(name)) {
      return { at: [name], message: `${JSON.stringify(name)} is not a valid resource name: expected a name such as cpu, memory or example.com/gpu` };
    }
    if (typeof amount !== "string" || parseQuantity(amount) === undefined) {
      return { at: [name], message: `${JSON.stringify(amount)} is not valid: expected a Kubernetes quantity such as "500m", "1" or "2Gi"` };
    }
  }
  return undefined;
}

/** `node_selector`: label keys and values. */
export function checkNodeSelector(value: KeyValue): ValueProblem | undefined {
  for (const [key, label] of Object.entries(asRecord(value))) {
    if (!isQualifiedName(key)) {
      return { at: [key], message: `${JSON.stringify(key)} is not a valid label key: expected [prefix/]name, e.g. "kubernetes.io/arch"` };
    }
    if (typeof label !== "string" || label.length > 63 || !labelValuePattern.test(label)) {
      return {
        at: [key],
        message: `${JSON.stringify(label)} is not a valid label value: expected at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
      };
    }
  }
  return undefined;
}

/** Label keys buildplane sets on its pods itself, which `pod_labels` may not change. */
const ownLabel = (key: string): boolean => key.startsWith("buildplane.dev/") || key === "app.kubernetes.io/managed-by";

/** `pod_labels`: label keys and values, none of buildplane's own. */
export function checkPodLabels(value: KeyValue): ValueProblem | undefined {
  const own = Object.keys(asRecord(value)).find(ownLabel);
  if (own !== undefined) {
    return { at: [own], message: `${JSON.stringify(own)} is buildplane's own label: expected another key (buildplane.dev/* and app.kubernetes.io/managed-by mark and find its pods)` };
  }
  return checkNodeSelector(value);
}

/** `pod_annotations`: qualified keys (the values are free text). */
export function checkPodAnnotations(value: KeyValue): ValueProblem | undefined {
  for (const [key, text] of Object.entries(asRecord(value))) {
    if (!isQualifiedName(key)) {
      return { at: [key], message: `${JSON.stringify(key)} is not a valid annotation key: expected [prefix/]name, e.g. "sidecar.istio.io/inject"` };
    }
    if (typeof text !== "string") return { at: [key], message: `${JSON.stringify(text)} is not valid: expected a string` };
  }
  return undefined;
}

/**
 * `tolerations`: the rules Kubernetes applies across a toleration's fields
 * (the fields' own types and allowed values are checked by the schema).
 */
export function checkTolerations(value: KeyValue): ValueProblem | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const [i, t] of (value as readonly Readonly<Record<string, string | number>>[]).entries()) {
    const key = String(t["key"] ?? "");
    const operator = String(t["operator"] ?? "Equal");
    const effect = String(t["effect"] ?? "");
    if (key !== "" && !isQualifiedName(key)) {
      return { at: [i, "key"], message: `${JSON.stringify(key)} is not a valid taint key: expected [prefix/]name, e.g. "dedicated" or "example.com/builds"` };
    }
    if (key === "" && operator !== "Exists") {
      return { at: [i, "operator"], message: `${JSON.stringify(operator)} needs a key: expected a key, or operator = "Exists" to tolerate every taint` };
    }
    if (operator === "Exists" && String(t["value"] ?? "") !== "") {
      return { at: [i, "value"], message: `${JSON.stringify(t["value"])} is not valid with operator "Exists": expected no value` };
    }
    if (t["toleration_seconds"] !== undefined && effect !== "NoExecute") {
      return { at: [i, "toleration_seconds"], message: `${t["toleration_seconds"]} is not valid with effect ${JSON.stringify(effect)}: expected effect = "NoExecute"` };
    }
  }
  return undefined;
}
