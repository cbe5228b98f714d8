// Context transfer into the engine, local against delegated, with nothing
// else in the way: the same 300 MiB context (a Containerfile and one random
// file, packed as it is read, 64 KiB at a time) goes from this process
// - to the local Docker engine itself (`libs/engine`, what `command` mode
//   does), and
// - to a builder node (`buildplane serve`, a child process) over loopback
//   HTTP/2, as a delegating main install sends it (`createGrpcNode`); the
//   node streams it to the same engine.
// There is no git, mirror or CLI start-up on either side, so the pairs differ
// only by the hop through the node: the figure item 7 of the builder issue
// sets a goal for (delegated ≥ 0.9× local), measured in BENCH_TRANSFER_PAIRS
// (default 6) interleaved pairs, odd pairs local first, after one build of
// each kind that warms up both processes' code (a long-running node and main
// install have served builds before). The Containerfile's only step prints a
// line, so the engine holds the whole context when its first log line
// arrives: the rate is context MiB / time from the call to that line. Beside
// it, the CPU time (utime + stime, all threads) this process, the node, the
// engine's daemon (dockerd) and the whole machine (every CPU) spent in that
// time.
// BENCH_TRANSFER_CORES=split: this process runs on CPU 0 and the node on
// CPU 1, as a node on its own machine would not take the sender's CPU; the
// engine stays on both.
// BENCH_TRANSFER_RTT_MS=10: the delegated transfers cross a link with that
// round trip (a forwarder holding every piece half of it each way, as to a
// node in another zone); the node sizes its stream window to it.
// MB here means MiB (2^20 bytes). Run: node --import tsx test/bench/transfer.ts
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import { pack } from "tar-stream";
import { createEngine } from "../../libs/engine/engine.js";
import { Secret } from "../../libs/secret/secret.js";
import { createGrpcNode } from "../../services/builder/delegate/grpc-node.js";
import { makeJob, plainTarget } from "../delegate/fixtures/build-fixtures.js";
import { startNode } from "../delegate/fixtures/start-node.js";
import { removeTestImages, testTag } from "../delegate/fixtures/test-images.js";
import { startDelayProxy } from "../helpers/delay-proxy.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry } from "../helpers/start-registry.js";
import { dockerdPid, cpuMs as processCpuMs, machineBusyMs, median as medianOf, table } from "./fixtures/figures.js";

const MiB = 1024 * 1024;
const CONTEXT_BYTES = 300 * MiB;
const READ_BYTES = 64 * 1024;
const PAIRS = Math.max(1, Number(process.env["BENCH_TRANSFER_PAIRS"] ?? 6) || 6);
const splitCores = process.env["BENCH_TRANSFER_CORES"] === "split";
const roundTripMs = Math.max(0, Number(process.env["BENCH_TRANSFER_RTT_MS"] ?? 0) || 0);
const token = `bench-${randomBytes(16).toString("hex")}`;

const payload = randomBytes(CONTEXT_BYTES);

/** The context as an uncompressed tar stream: each 64 KiB of the big file a fresh buffer, as a file read gives them. */
function context(marker: string): Readable {
  const tar = pack();
  tar.entry({ name: "Containerfile", mode: 0o644 }, `FROM local/busybox:1\nRUN echo ${marker}\n`);
  const file = tar.entry({ name: "payload.bin", mode: 0o644, size: CONTEXT_BYTES });
  void (async () => {
    for (let at = 0; at < CONTEXT_BYTES - READ_BYTES; at += READ_BYTES) {
      if (!file.write(Buffer.from(payload.subarray(at, at + READ_BYTES)))) await new Promise<void>((resolve) => file.once("drain", () => resolve()));
    }
    file.end(Buffer.from(payload.subarray(CONTEXT_BYTES - READ_BYTES)));
    tar.finalize();
  })();
  return tar as unknown as Readable;
}

interface Transfer {
  readonly ms: number;
  readonly senderCpuMs: number;
  readonly nodeCpuMs: number;
  readonly engineCpuMs: number;
  readonly machineCpuMs: number;
}

const registry = await startRegistry();
if (splitCores) await runCommand("taskset", ["-a", "-p", "-c", "0", String(process.pid)]);
const node = await startNode({ token });
const nodePid = node.child.pid;
if (nodePid === undefined) throw new Error("the node has no pid");
if (splitCores) await runCommand("taskset", ["-a", "-p", "-c", "1", String(nodePid)]);
const engine = await createEngine({ command: "docker" });
const enginePid = dockerdPid() ?? 0;
if (enginePid === 0) throw new Error("no dockerd runs on this machine: the transfer bench measures the Docker engine");
const link = roundTripMs > 0 ? await startDelayProxy(node.port, roundTripMs / 2) : undefined;
const grpc = createGrpcNode({ url: link === undefined ? node.url : `http://127.0.0.1:${link.port}`, token: new Secret(token) });
const target = plainTarget(registry.host);

/** One build of a fresh context; the transfer ends at the engine's first log line. */
async function transfer(kind: "local" | "delegated"): Promise<Transfer> {
  const marker = `transfer-${randomBytes(6).toString("hex")}`;
  const start = { at: performance.now(), sender: cpuMs(process.pid), node: cpuMs(nodePid as number), engine: cpuMs(enginePid), machine: machineBusyMs() };
  let end: Transfer | undefined;
  const firstLine = (): void => {
    end ??= {
      ms: performance.now() - start.at,
      senderCpuMs: cpuMs(process.pid) - start.sender,
      nodeCpuMs: cpuMs(nodePid as number) - start.node,
      engineCpuMs: cpuMs(enginePid) - start.engine,
      machineCpuMs: machineBusyMs() - start.machine,
    };
  };
  const signal = new AbortController().signal;
  if (kind === "local") {
    const tag = `bench-transfer:${testTag()}`;
    await engine.build({ context: context(marker), tag, dockerfile: "Containerfile", buildArgs: {} }, firstLine, signal);
    await engine.removeImage(tag, { force: true });
  } else {
    const { context: _unused, ...job } = makeJob({ registry: target, appId: "transfer" });
    await grpc.build({ job: { ...job, containerfile: "Containerfile" }, registry: target, context: () => context(marker) }, (p) => {
      if (p.type === "log" && p.stream !== "system") firstLine();
    }, signal);
  }
  if (end === undefined) throw new Error(`the ${kind} build ended without an engine log line`);
  return end;
}

/** utime + stime of a running process (all its threads) so far, ms. */
const cpuMs = (pid: number): number => processCpuMs(pid, false) ?? 0;
const median = (xs: readonly number[]): number => medianOf(xs) ?? Number.NaN;
const rate = (t: Transfer): number => CONTEXT_BYTES / MiB / (t.ms / 1000);
const s = (ms: number): string => (ms / 1000).toFixed(2);

try {
  await transfer("local");
  await transfer("delegated");
  const rows: string[][] = [];
  const runs: Record<"local" | "delegated", Transfer[]> = { local: [], delegated: [] };
  for (let pair = 1; pair <= PAIRS; pair++) {
    const load = loadavg().map((l) => l.toFixed(2)).join(" ");
    const order = pair % 2 === 1 ? (["local", "delegated"] as const) : (["delegated", "local"] as const);
    const first = await transfer(order[0]);
    const second = await transfer(order[1]);
    const [local, delegated] = order[0] === "local" ? [first, second] : [second, first];
    runs.local.push(local);
    runs.delegated.push(delegated);
    rows.push([`pair ${pair}`, order[0], rate(local).toFixed(1), rate(delegated).toFixed(1), (rate(delegated) / rate(local)).toFixed(3),
      `${s(local.senderCpuMs)} / ${s(delegated.senderCpuMs)}`, s(delegated.nodeCpuMs), `${s(local.engineCpuMs)} / ${s(delegated.engineCpuMs)}`, `${s(local.machineCpuMs)} / ${s(delegated.machineCpuMs)}`, load]);
  }
  console.log(`A ${CONTEXT_BYTES / MiB} MiB context into the engine: from this process (local) and through a builder node (delegated) ${roundTripMs > 0 ? `over a link with a ${roundTripMs} ms round trip` : "on loopback"}${splitCores ? "; this process on CPU 0, the node on CPU 1" : ""}`);
  console.log(table(["pair", "first", "local MB/s", "delegated MB/s", "rate d/l", "sender CPU s l / d", "node CPU s", "dockerd CPU s l / d", "machine CPU s l / d", "load before"], rows));
  console.log(`median rate: local ${median(runs.local.map(rate)).toFixed(1)} MB/s, delegated ${median(runs.delegated.map(rate)).toFixed(1)} MB/s`);
  const ratioOf = (cpu: (t: Transfer) => number): string => (median(runs.delegated.map(cpu)) / median(runs.local.map(cpu))).toFixed(3);
  console.log(`median node CPU per transfer: ${s(median(runs.delegated.map((t) => t.nodeCpuMs)))} s; median CPU d/l: machine ${ratioOf((t) => t.machineCpuMs)}, dockerd ${ratioOf((t) => t.engineCpuMs)}`);
  console.log(`median transfer rate delegated / local (of the pairs): ${median(runs.delegated.map((d, i) => rate(d) / rate(runs.local[i] as Transfer))).toFixed(3)} (goal ≥ 0.9)`);
} finally {
  await grpc.close();
  await link?.close();
  await node.stop();
  await registry.stop();
  await removeTestImages();
}
