import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import { Secret } from "../../../libs/secret/secret.js";
import { createBuildSlots, type BuildSlots } from "../../../services/builder/build-slots.js";
import type { BuilderModeModule } from "../../../services/builder/builder-mode.js";
import { commandMode } from "../../../services/builder/command/command-mode.js";
import { createCommandBuilder, type CommandEngine } from "../../../services/builder/command/command-builder.js";
import type { BuilderNode } from "../../../services/builder/delegate/builder-node.js";
import { createDelegateBuilder } from "../../../services/builder/delegate/delegate-builder.js";
import { delegateMode } from "../../../services/builder/delegate/delegate-mode.js";
import type { ImageBuilder } from "../../../services/builder/image-builder.js";
import { createKanikoBuilder } from "../../../services/builder/kaniko/kaniko-builder.js";
import { kanikoMode } from "../../../services/builder/kaniko/kaniko-mode.js";
import { resolveKanikoOptions } from "../../../services/builder/kaniko/kaniko-options.js";
import type { KanikoExit, KanikoRun } from "../../kube/kaniko-emulator.js";
import { startTestApiServer } from "../../kube/test-api-server.js";

/** How the fake backend of a mode behaves for one build. */
export interface FakeScript {
  /** Lines the engine, Job or node prints. */
  readonly lines: readonly string[];
  /** Never finish on its own: only an abort ends the build. */
  readonly hang?: boolean;
  /** The digest the backend reports for its push. */
  readonly digest: string;
}

/** What the fake saw. */
export interface FakeSeen {
  builds: number;
  contextBytes: number;
  labels: Readonly<Record<string, string>> | undefined;
  aborted: boolean;
}

/** One mode under test: its module, a builder over in-memory fakes, and what the fake saw. */
export interface ModeUnderTest {
  readonly module: BuilderModeModule;
  readonly seen: FakeSeen;
  readonly builder: ImageBuilder | undefined;
  /** The registry's digest for a reference, as the fake registry answers. */
  registryDigest: string | undefined;
  readonly slots: BuildSlots;
  /** What the mode's backend still holds (kaniko: Jobs, pods and Secrets); 0 once a build is cleaned up. */
  leftovers(): number;
}

async function drain(context: AsyncIterable<Uint8Array | string> | Readable): Promise<number> {
  let n = 0;
  for await (const c of context as AsyncIterable<Uint8Array>) n += c.length;
  return n;
}

/** Reads a context tar: its size and the labels of a `LABEL "k"="v" …` line in its Dockerfile (how the command mode inlines them). */
async function readContext(context: Readable): Promise<{ bytes: number; inlined: Record<string, string> }> {
  const x = extract();
  let bytes = 0;
  let dockerfile = "";
  x.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (b: unknown) => void chunks.push(b as Buffer));
    stream.on("end", () => {
      if (header.name.replace(/^\.\//, "") === "Dockerfile") dockerfile = Buffer.concat(chunks).toString("utf8");
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    x.on("finish", resolve);
    x.on("error", reject);
  });
  for await (const c of context as AsyncIterable<Buffer>) {
    bytes += c.length;
    x.write(c);
  }
  x.end(() => undefined);
  await done;
  const inlined: Record<string, string> = {};
  for (const m of (/^LABEL (.*)$/m.exec(dockerfile)?.[1] ?? "").matchAll(/"([^"]*)"="([^"]*)"/g)) inlined[m[1] ?? ""] = m[2] ?? "";
  return { bytes, inlined };
}

function untilAborted(signal: AbortSignal, seen: FakeSeen): Promise<never> {
  return new Promise((_, reject) => {
    const stop = (): void => {
      seen.aborted = true;
      reject(signal.reason);
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
}

/** The engine the command mode depends on (`CommandEngine`), in memory. */
export function fakeEngine(script: () => FakeScript, seen: FakeSeen): CommandEngine {
  return {
    async build(options, onLine, signal) {
      seen.builds++;
      const read = await readContext(options.context);
      seen.labels = { ...read.inlined, ...options.labels };
      seen.contextBytes = read.bytes;
      for (const line of script().lines) onLine("stdout", line);
      if (script().hang) await untilAborted(signal, seen);
      return { imageId: "sha256:local" };
    },
    async exportImage() {
      throw new Error("the contract suite builds without a registry in command mode");
    },
    async info() {
      return { name: "docker", version: "fake" };
    },
    async hasImage() {
      return { exists: false, id: "" };
    },
  };
}

/**
 * Kaniko's executor as the test cluster's kubelet runs it, scripted: it
 * reads the gzipped context from stdin, takes the `--label` flags, prints
 * the script's lines and writes the digest as its termination message.
 */
export function fakeKanikoExecutor(script: () => FakeScript, seen: FakeSeen): (run: KanikoRun) => Promise<KanikoExit> {
  return async (run) => {
    seen.builds++;
    const labels: Record<string, string> = {};
    for (const m of run.args.map((a) => /^--label=([^=]*)=(.*)$/s.exec(a))) if (m) labels[m[1] ?? ""] = m[2] ?? "";
    seen.labels = labels;
    seen.contextBytes = (await readContext(run.stdin.pipe(createGunzip()))).bytes;
    for (const line of script().lines) run.log(line);
    if (script().hang) {
      try {
        await untilAborted(run.signal, seen);
      } catch {
        return { exitCode: 137, terminationMessage: "" };
      }
    }
    return { exitCode: 0, terminationMessage: script().digest };
  };
}

/** A builder node (`BuilderNode`) in memory. */
export function fakeNode(url: string, script: () => FakeScript, seen: FakeSeen): BuilderNode {
  return {
    url,
    async probe() {
      return { healthy: true, capacity: 4, running: 0, queued: 0, reason: "" };
    },
    async build(build, onProgress, signal) {
      seen.builds++;
      seen.labels = build.job.labels;
      seen.contextBytes = await drain(build.context());
      for (const line of script().lines) onProgress({ type: "log", stream: "stdout", text: line });
      if (script().hang) await untilAborted(signal, seen);
      onProgress({ type: "pushed", reference: build.job.reference, digest: script().digest });
      return { reference: build.job.reference, digest: script().digest };
    },
    async close() {},
  };
}

/** Every mode, each over its fakes; `script` says what the fake backend does in the current test. `close` stops the stand-in Kubernetes API. */
export async function modesUnderTest(script: () => FakeScript): Promise<{ modes: ModeUnderTest[]; close(): Promise<void> }> {
  const slots = (): BuildSlots => createBuildSlots({ capacity: 1, maxWaitSecs: 30 });
  const seen = (): FakeSeen => ({ builds: 0, contextBytes: 0, labels: undefined, aborted: false });
  const command: ModeUnderTest = { module: commandMode, seen: seen(), builder: undefined, registryDigest: undefined, slots: slots(), leftovers: () => 0 };
  Object.assign(command, {
    builder: createCommandBuilder({ engine: fakeEngine(script, command.seen), engineName: "docker", push: async () => script().digest }),
  });
  const delegate: ModeUnderTest = { module: delegateMode, seen: seen(), builder: undefined, registryDigest: undefined, slots: slots(), leftovers: () => 0 };
  Object.assign(delegate, {
    builder: createDelegateBuilder({
      urls: ["http://node.test:1"],
      token: new Secret("t"),
      pollIntervalMs: 60_000,
      nodeFactory: (url) => fakeNode(url, script, delegate.seen),
      checkDigest: async (_reference: string, _target: RegistryTarget) => delegate.registryDigest,
    }),
  });
  // Kaniko runs its Jobs on the stand-in Kubernetes API of test/kube (a real HTTP server in this process), its executor scripted.
  const kanikoSeen = seen();
  const api = await startTestApiServer({ executor: fakeKanikoExecutor(script, kanikoSeen) });
  const namespace = "contract";
  const kaniko: ModeUnderTest = {
    module: kanikoMode,
    seen: kanikoSeen,
    builder: undefined,
    registryDigest: undefined,
    slots: slots(),
    leftovers: () => api.store.count("jobs", namespace) + api.store.count("pods", namespace) + api.store.count("secrets", namespace),
  };
  Object.assign(kaniko, {
    builder: createKanikoBuilder({
      kubeConfig: api.kubeConfig(),
      options: resolveKanikoOptions({ namespace, kanikoImage: "kaniko-test/executor:1", podStartTimeoutSecs: 120 }),
      checkDigest: async () => kaniko.registryDigest,
    }),
  });
  return { modes: [command, delegate, kaniko], close: () => api.close() };
}
