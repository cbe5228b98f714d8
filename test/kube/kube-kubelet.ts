import { PassThrough } from "node:stream";
import type { V1Container, V1ContainerStatus, V1Pod, V1PodCondition } from "@kubernetes/client-node";
import type Docker from "dockerode";
import { runKaniko, type KanikoExit, type KanikoRun } from "./kaniko-emulator.js";
import type { KubeObject, KubeStore } from "./kube-store.js";

/** The one node of the test cluster and its labels (a nodeSelector must match them). */
export const nodeName = "test-node";
export const nodeLabels: Readonly<Record<string, string>> = { "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" };

/** What the API server needs from a running container: stdin for attach, its log for `pods/log`. */
export interface ContainerRuntime {
  readonly stdin: PassThrough;
  readonly lines: string[];
  readonly listeners: Set<(line: string | null) => void>;
  stdinAttached: boolean;
  done: boolean;
}

/**
 * The kubelet of the test cluster's single node. For each new pod it plays
 * the scheduler (nodeSelector vs node labels → `Unschedulable`), mounts
 * secret volumes (waits while a Secret is missing, as kubelet retries),
 * resolves `secretKeyRef` env (`CreateContainerConfigError`), pulls the image
 * (any image named `test/unpullable…` gives `ErrImagePull` then
 * `ImagePullBackOff`; one named `test/pull-hangs…` stays `ContainerCreating`,
 * a pull that never ends), then runs the container: every image is run as
 * the Kaniko executor, really building with the local engine (or through
 * `executor` when given: a scripted executor for tests of what surrounds
 * the build). A pod given a
 * `deletionTimestamp` (graceful deletion) has its container killed — reported
 * terminated with exit code 137, as after SIGKILL — and is then removed.
 */
export class Kubelet {
  readonly runtimes = new Map<string, ContainerRuntime>();
  readonly #aborts = new Map<string, AbortController>();
  /** Kills the running container of a pod (by `ns/name`). */
  readonly #kills = new Map<string, AbortController>();
  readonly #terminating = new Set<string>();

  constructor(private readonly store: KubeStore, private readonly docker: Docker, private readonly executor?: (run: KanikoRun) => Promise<KanikoExit>) {
    store.subscribe(undefined, (e) => {
      if (e.resource !== "pods") return;
      const key = `${e.object.metadata?.namespace}/${e.object.metadata?.name}`;
      if (e.type === "ADDED") void this.#start(e.object as V1Pod & KubeObject, key);
      if (e.type === "MODIFIED" && e.object.metadata?.deletionTimestamp !== undefined) this.#terminate(e.object, key);
      if (e.type === "DELETED") {
        this.#aborts.get(key)?.abort();
        this.#aborts.delete(key);
        this.#kills.delete(key);
        this.#terminating.delete(key);
        const rt = this.runtimes.get(key);
        rt?.stdin.destroy();
        this.runtimes.delete(key);
      }
    });
  }

  /** Graceful deletion: kills a running container (its pod is removed once reported), removes a pod not running yet at once. */
  #terminate(pod: KubeObject, key: string): void {
    if (this.#terminating.has(key)) return;
    this.#terminating.add(key);
    const kill = this.#kills.get(key);
    if (kill !== undefined) { kill.abort(); return; }
    try { this.store.delete("pods", pod.metadata?.namespace ?? "", pod.metadata?.name ?? "", "Background"); } catch { /* gone */ }
  }

  async #start(pod: V1Pod, key: string): Promise<void> {
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const ac = new AbortController();
    this.#aborts.set(key, ac);
    const set = (mut: (p: V1Pod) => void) => {
      if (ac.signal.aborted) return;
      try { this.store.update("pods", ns, name, (o) => mut(o as V1Pod)); } catch { /* the pod went away meanwhile */ }
    };
    const container = pod.spec?.containers[0] as V1Container;
    const status = (state: V1ContainerStatus["state"], extra: Partial<V1ContainerStatus> = {}): V1ContainerStatus =>
      ({ name: container.name, image: container.image ?? "", imageID: "", ready: false, restartCount: 0, state, ...extra });
    await tick();
    const selector = pod.spec?.nodeSelector ?? {};
    if (!Object.entries(selector).every(([k, v]) => nodeLabels[k] === v)) {
      set((p) => { p.status = { phase: "Pending", conditions: [cond("PodScheduled", "False", "Unschedulable", "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")] }; });
      return;
    }
    set((p) => { p.spec = { ...p.spec, containers: p.spec?.containers ?? [], nodeName }; p.status = { phase: "Pending", conditions: [cond("PodScheduled", "True")], containerStatuses: [status({ waiting: { reason: "ContainerCreating" } })] }; });
    const files = await this.#mountSecrets(pod, ns, ac.signal);
    if (files === undefined) return;
    await tick();
    if ((container.image ?? "").startsWith("test/pull-hangs")) return; // stays ContainerCreating
    if ((container.image ?? "").startsWith("test/unpullable")) {
      const msg = `failed to pull and unpack image "${container.image}": pull access denied, repository does not exist or may require authorization`;
      set((p) => { p.status = { ...p.status, containerStatuses: [status({ waiting: { reason: "ErrImagePull", message: msg } })] }; });
      await sleep(100);
      set((p) => { p.status = { ...p.status, containerStatuses: [status({ waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${container.image}"` } })] }; });
      return;
    }
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref === undefined) { env[e.name] = e.value ?? ""; continue; }
      const secret = this.store.list("secrets", ns, null).find((s) => s.metadata?.name === ref.name) as { data?: Record<string, string> } | undefined;
      const value = secret?.data?.[ref.key];
      if (value === undefined) {
        const message = secret === undefined ? `secret "${ref.name}" not found` : `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`;
        set((p) => { p.status = { ...p.status, containerStatuses: [status({ waiting: { reason: "CreateContainerConfigError", message } })] }; });
        return;
      }
      env[e.name] = Buffer.from(value, "base64").toString();
    }
    const rt: ContainerRuntime = { stdin: new PassThrough({ highWaterMark: 64 * 1024 }), lines: [], listeners: new Set(), stdinAttached: false, done: false };
    this.runtimes.set(key, rt);
    const startedAt = new Date();
    set((p) => { p.status = { ...p.status, phase: "Running", startTime: startedAt, conditions: [cond("PodScheduled", "True"), cond("Ready", "True")], containerStatuses: [status({ running: { startedAt } }, { ready: true, started: true })] }; });
    const log = (line: string) => { if (rt.done) return; rt.lines.push(line); for (const l of rt.listeners) l(line); }; // a killed container says nothing more
    const kill = new AbortController();
    this.#kills.set(key, kill);
    const killed = new Promise<KanikoExit>((r) => kill.signal.addEventListener("abort", () => r({ exitCode: 137, terminationMessage: "" }), { once: true }));
    // Without stdin (never attached, stdinOnce), Kaniko waits on tar://stdin forever, like the real one.
    const run: KanikoRun = { args: container.args ?? [], env, files, stdin: rt.stdin, log, signal: AbortSignal.any([ac.signal, kill.signal]) };
    const running = this.executor ? this.executor(run) : runKaniko(run, this.docker);
    const exit = await Promise.race([running, killed]);
    this.#kills.delete(key);
    rt.done = true;
    for (const l of rt.listeners) l(null);
    const ok = exit.exitCode === 0;
    set((p) => {
      p.status = { ...p.status, phase: ok ? "Succeeded" : "Failed", conditions: [cond("PodScheduled", "True"), cond("Ready", "False", "PodCompleted")],
        containerStatuses: [status({ terminated: { exitCode: exit.exitCode, reason: ok ? "Completed" : "Error", message: exit.terminationMessage, startedAt, finishedAt: new Date() } })] };
    });
    if (kill.signal.aborted) {
      // The pod object goes once the kubelet has torn its volumes down: the Job sees its container's end first.
      setTimeout(() => { try { this.store.delete("pods", ns, name, "Background"); } catch { /* gone */ } }, 500).unref();
    }
  }

  /** The files the pod's secret volumes put in its container, or undefined when the pod went away first. */
  async #mountSecrets(pod: V1Pod, ns: string, signal: AbortSignal): Promise<Map<string, string> | undefined> {
    const files = new Map<string, string>();
    const container = pod.spec?.containers[0];
    for (const mount of container?.volumeMounts ?? []) {
      const vol = pod.spec?.volumes?.find((v) => v.name === mount.name);
      const ref = vol?.secret;
      if (ref === undefined) continue;
      let secret: { data?: Record<string, string> } | undefined;
      while ((secret = this.store.list("secrets", ns, null).find((s) => s.metadata?.name === ref.secretName) as typeof secret) === undefined) {
        if (signal.aborted) return undefined;
        await sleep(50); // FailedMount: kubelet retries until the Secret exists
      }
      const items = ref.items ?? Object.keys(secret.data ?? {}).map((key) => ({ key, path: key }));
      for (const item of items) {
        const v = secret.data?.[item.key];
        if (v !== undefined) files.set(`${mount.mountPath.replace(/\/$/, "")}/${item.path}`, Buffer.from(v, "base64").toString());
      }
    }
    return files;
  }
}

function cond(type: string, status: "True" | "False", reason?: string, message?: string): V1PodCondition {
  return { type, status, lastTransitionTime: new Date(), ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 10));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
