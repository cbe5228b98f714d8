import { existsSync } from "node:fs";
import { delimiter } from "node:path";
import type { BuilderMode, EffectiveBuilderMode } from "./config-types.js";
import { expandPath, setEntry, type Entries } from "./config-entries.js";

/**
 * True when this process runs inside a Kubernetes pod: the kubelet sets
 * `KUBERNETES_SERVICE_HOST` in every container. Read from the environment
 * given to `loadConfig`, so `[builder] mode = "auto"` can be decided (and
 * checked) when the configuration is loaded.
 */
export function isInKubernetes(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env["KUBERNETES_SERVICE_HOST"] ?? "") !== "";
}

/** The mode builds really use: `auto` is kaniko inside Kubernetes, else command. */
export function effectiveBuilderMode(mode: BuilderMode, inKubernetes: boolean): EffectiveBuilderMode {
  if (mode.kind !== "auto") return mode;
  return inKubernetes ? { kind: "kaniko" } : { kind: "command" };
}

/**
 * The kubeconfig used when `[kubernetes] kubeconfig` is not set: the first
 * path of `KUBECONFIG` when set (as kubectl reads it), else
 * `~/.kube/config` when it exists and we are not inside Kubernetes, else
 * "" (the in-cluster service account).
 */
export function defaultKubeconfig(env: NodeJS.ProcessEnv, cwd: string): { path: string; from: string } | undefined {
  const first = (env["KUBECONFIG"] ?? "").split(delimiter).find((p) => p !== "");
  if (first !== undefined) return { path: expandPath(first, cwd, env), from: "env:KUBECONFIG" };
  if (isInKubernetes(env)) return undefined;
  const home = expandPath("~/.kube/config", cwd, env);
  return existsSync(home) ? { path: home, from: home } : undefined;
}

/**
 * Records the computed kubeconfig default as an implicit entry, before the
 * file and `BUILDPLANE_*` variables (which win over it). It is checked for
 * readability only when builds run in kaniko mode.
 */
export function applyEnvDefaults(env: NodeJS.ProcessEnv, cwd: string, entries: Entries): void {
  const kube = defaultKubeconfig(env, cwd);
  if (!kube) return;
  setEntry(entries, "kubernetes", "kubeconfig", { value: kube.path, origin: { file: kube.from, line: 0, column: 0, baseDir: cwd, implicit: true } });
}
