import { readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { load, loadAll } from "js-yaml";

/** One rendered Kubernetes object. */
export type Manifest = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
};

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  components?: string[];
  namespace?: string;
}

/**
 * Renders a kustomization folder as `kubectl apply -k` would for the subset
 * our manifests use: `resources` (YAML files, and folders holding their own
 * kustomization, rendered recursively) and `namespace`. Anything else in a
 * kustomization (patches, generators, …) is refused, so a manifest that
 * starts using it fails here instead of being checked half-rendered. Files
 * must lie in or below the folder, as kustomize requires; folders may be
 * anywhere. Objects with the same kind, namespace and name are refused, as
 * kustomize refuses them.
 */
export function renderKustomization(dir: string): Manifest[] {
  const root = resolve(dir);
  const k = load(readFileSync(join(root, "kustomization.yaml"), "utf8")) as Kustomization;
  const unknown = Object.keys(k).filter((key) => !["apiVersion", "kind", "resources", "namespace"].includes(key));
  if (unknown.length > 0) throw new Error(`${root}/kustomization.yaml: ${unknown.join(", ")} is not supported by the test renderer`);
  if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1" || k.kind !== "Kustomization") throw new Error(`${root}/kustomization.yaml: expected apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization`);
  const out: Manifest[] = [];
  for (const entry of k.resources ?? []) {
    const path = resolve(root, entry);
    if (statSync(path).isDirectory()) {
      out.push(...renderKustomization(path));
      continue;
    }
    if (relative(root, path).startsWith("..")) throw new Error(`${root}/kustomization.yaml: ${entry} is not in or below the kustomization folder`);
    out.push(...(loadAll(readFileSync(path, "utf8")) as (Manifest | null)[]).filter((d): d is Manifest => d !== null));
  }
  if (k.namespace) for (const d of out) if (d.kind !== "Namespace") d.metadata = { ...d.metadata, namespace: k.namespace };
  const seen = new Set<string>();
  for (const d of out) {
    const id = `${d.kind}/${d.metadata?.namespace ?? ""}/${d.metadata?.name ?? ""}`;
    if (seen.has(id)) throw new Error(`${root}: ${id} is defined twice`);
    seen.add(id);
  }
  return out;
}
