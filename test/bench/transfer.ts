// Context transfer into the engine, local against delegated, with nothing
// else in the way: the same 300 MiB context (a Containerfile and one random
// file, packed as it is read, 64 KiB at a time) goes from this process
// - to the local Docker engine itself (`libs/engine`, what `command` mode
//   does);
// - to the same engine through a byte relay (a Node process piping TCP to
//   the engine's socket, nothing parsed): the least any hop costs here, the
//   baseline the node is held to;
// - to a builder node (`buildplane serve`, a child process) over loopback
//   HTTP/2, as a delegating main install sends it (`createGrpcNode`); the
//   node streams it to the same engine.
// There is no git, mirror or CLI start-up on any path, so they differ only by
// the hop: the figure item 7 of the builder issue sets a goal for (delegated
// ≥ 0.9× local), measured in BENCH_TRANSFER_PAIRS (default 6) rounds of the
// three, in turns (each kind first in every third round), after
// BENCH_TRANSFER_WARMUP (default 3) builds of each kind that warm up the
// processes' code, as a long-running node and main install have served builds
// before: V8 optimizes a node's receive path over its first few hundred MiB
// (its CPU per 300 MiB fell from 0.65 s to 0.54 s and 0.43 s over its first
// three builds; later builds still vary, from about 0.3 s to 0.8 s, from one
// build and one node process to the next). The Containerfile's only step prints a
// line, so the engine holds the whole context when its first log line
// arrives: the rate is context MiB / time from the call to that line. Beside
// it, the CPU time (utime + stime, all threads) this process, the relay or
// the node, the engine's daemon (dockerd) and the whole machine (every CPU)
// spent in that time.
// BENCH_TRANSFER_CORES=split: this process runs on CPU 0, the node and the
// relay on CPU 1, as a node on its own machine would not take the sender's
// CPU; the engine stays on both.
// BENCH_TRANSFER_RTT_MS=10: the relayed and delegated transfers cross a link
// with that round trip (a forwarder holding every piece half of it each way,
// as to a node in another zone); the node sizes its stream window to it.
// MB here means MiB (2^20 bytes). Run: node --import tsx test/bench/transfer.ts
import { randomBytes } from "node:crypto";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { createEngineAt } from "../../libs/engine/engine.js";
import { resolveEngineEndpoint } from "../../libs/engine/engine-endpoint.js";
import { Secret } from "../../libs/secret/secret.js";
import { createGrpcNode } from "../../services/builder/delegate/grpc-node.js";
import { makeJob, plainTarget } from "../delegate/fixtures/build-fixtures.js";
import { startNode } from "../delegate/fixtures/start-node.js";
import { removeTestImages, testTag } from "../delegate/fixtures/test-images.js";
import { startTcpForwarder, type TcpForwarder } from "../helpers/tcp-forwarder.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry } from "../helpers/start-registry.js";
import { startByteRelay } from "./fixtures/byte-relay.js";
import { randomContexts } from "./fixtures/random-context.js";
import { dockerdPid, cpuMs as processCpuMs, machineBusyMs, median as medianOf, table } from "./fixtures/figures.js";

const MiB = 1024 * 1024;
const CONTEXT_BYTES = 300 * MiB;
const PAIRS = Math.max(1, Number(process.env["BENCH_TRANSFER_PAIRS"] ?? 6) || 6);
const WARMUP = Math.max(0, Number(process.env["BENCH_TRANSFER_WARMUP"] ?? 3) || 0);
const splitCores = process.env["BENCH_TRANSFER_CORES"] === "split";
const roundTripMs = Math.max(0, Number(process.env["BENCH_TRANSFER_RTT_MS"] ?? 0) || 0);
const token = `bench-${randomBytes(16).toString("hex")}`;

const context = randomContexts(CONTEXT_BYTES);

interface Transfer {
  readonly ms: number;
  readonly senderCpuMs: number;
  /** The relay's or the node's, by kind; 0 for local. */
  readonly hopCpuMs: number;
  readonly engineCpuMs: number;
  readonly machineCpuMs: number;
}

const registry = await startRegistry();
if (splitCores) await runCommand("taskset", ["-a", "-p", "-c", "0", String(process.pid)]);
const node = await startNode({ token });
const nodePid = node.child.pid;
if (nodePid === undefined) throw new Error("the node has no pid");
if (splitCores) await runCommand("taskset", ["-a", "-p", "-c", "1", String(nodePid)]);
const endpoint = await resolveEngineEndpoint({ command: "docker" });
if (endpoint.kind !== "socket") throw new Error(`the transfer bench relays to the engine's socket; DOCKER_HOST names ${endpoint.label}`);
const engine = createEngineAt(endpoint);
const relay = await startByteRelay(endpoint.socketPath);
if (splitCores) await runCommand("taskset", ["-a", "-p", "-c", "1", String(relay.child.pid)]);
const enginePid = dockerdPid() ?? 0;
if (enginePid === 0) throw new Error("no dockerd runs on this machine: the transfer bench measures the Docker engine");
/** The port to reach `port` at: through a link with the round trip asked for, or directly. */
const links: TcpForwarder[] = [];
async function reach(port: number): Promise<number> {
  if (roundTripMs === 0) return port;
  const link = await startTcpForwarder(port, { delayMs: roundTripMs / 2 });
  links.push(link);
  return link.port;
}
const grpc = createGrpcNode({ url: `http://127.0.0.1:${await reach(node.port)}`, token: new Secret(token) });
const relayed = createEngineAt({ kind: "tcp", host: "127.0.0.1", port: await reach(relay.port), label: "byte relay" });
const target = plainTarget(registry.host);

type Kind = "local" | "relay" | "delegated";

/** One build of a fresh context; the transfer ends at the engine's first log line. */
async function transfer(kind: Kind): Promise<Transfer> {
  const marker = `transfer-${randomBytes(6).toString("hex")}`;
  const hopPid = kind === "local" ? undefined : kind === "relay" ? relay.child.pid : nodePid;
  const start = { at: performance.now(), sender: cpuMs(process.pid), hop: hopPid === undefined ? 0 : cpuMs(hopPid), engine: cpuMs(enginePid), machine: machineBusyMs() };
  let end: Transfer | undefined;
  const firstLine = (): void => {
    end ??= {
      ms: performance.now() - start.at,
      senderCpuMs: cpuMs(process.pid) - start.sender,
      hopCpuMs: hopPid === undefined ? 0 : cpuMs(hopPid) - start.hop,
      engineCpuMs: cpuMs(enginePid) - start.engine,
      machineCpuMs: machineBusyMs() - start.machine,
    };
  };
  const signal = new AbortController().signal;
  if (kind !== "delegated") {
    const tag = `bench-transfer:${testTag()}`;
    await (kind === "local" ? engine : relayed).build({ context: context(marker), tag, dockerfile: "Containerfile", buildArgs: {} }, firstLine, signal);
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

const kinds = ["local", "relay", "delegated"] as const;

try {
  for (let i = 0; i < WARMUP; i++) for (const kind of kinds) await transfer(kind);
  const rows: string[][] = [];
  const runs: Record<Kind, Transfer[]> = { local: [], relay: [], delegated: [] };
  for (let round = 1; round <= PAIRS; round++) {
    const load = loadavg().map((l) => l.toFixed(2)).join(" ");
    const turn = (round - 1) % kinds.length;
    const order = [...kinds.slice(turn), ...kinds.slice(0, turn)];
    const t = {} as Record<Kind, Transfer>;
    for (const kind of order) t[kind] = await transfer(kind);
    for (const kind of kinds) runs[kind].push(t[kind]);
    const ratio = (a: Transfer, b: Transfer): string => (rate(a) / rate(b)).toFixed(3);
    rows.push([`round ${round}`, order[0] as string, rate(t.local).toFixed(1), rate(t.relay).toFixed(1), rate(t.delegated).toFixed(1), ratio(t.relay, t.local), ratio(t.delegated, t.local), ratio(t.delegated, t.relay),
      `${s(t.local.senderCpuMs)} / ${s(t.delegated.senderCpuMs)}`, `${s(t.relay.hopCpuMs)} / ${s(t.delegated.hopCpuMs)}`, `${s(t.local.engineCpuMs)} / ${s(t.delegated.engineCpuMs)}`, `${s(t.local.machineCpuMs)} / ${s(t.delegated.machineCpuMs)}`, load]);
  }
  console.log(`A ${CONTEXT_BYTES / MiB} MiB context into the engine: from this process (local), through a byte relay (relay) and through a builder node (delegated) ${roundTripMs > 0 ? `over a link with a ${roundTripMs} ms round trip` : "on loopback"}${splitCores ? "; this process on CPU 0, the node and the relay on CPU 1" : ""}`);
  console.log(table(["round", "first", "local MB/s", "relay MB/s", "delegated MB/s", "relay/local", "delegated/local", "delegated/relay", "sender CPU s l / d", "relay / node CPU s", "dockerd CPU s l / d", "machine CPU s l / d", "load before"], rows));
  const medianRate = (kind: Kind): string => median(runs[kind].map(rate)).toFixed(1);
  console.log(`median rate: local ${medianRate("local")} MB/s, relay ${medianRate("relay")} MB/s, delegated ${medianRate("delegated")} MB/s`);
  const ratioOf = (cpu: (t: Transfer) => number): string => (median(runs.delegated.map(cpu)) / median(runs.local.map(cpu))).toFixed(3);
  console.log(`median CPU per transfer: relay ${s(median(runs.relay.map((t) => t.hopCpuMs)))} s, node ${s(median(runs.delegated.map((t) => t.hopCpuMs)))} s; median CPU d/l: machine ${ratioOf((t) => t.machineCpuMs)}, dockerd ${ratioOf((t) => t.engineCpuMs)}`);
  const rateRatio = (a: Kind, b: Kind): string => median(runs[a].map((x, i) => rate(x) / rate(runs[b][i] as Transfer))).toFixed(3);
  console.log(`median rate relay / local: ${rateRatio("relay", "local")} (the least a hop costs here)`);
  console.log(`median rate delegated / relay: ${rateRatio("delegated", "relay")}`);
  console.log(`median transfer rate delegated / local (of the rounds): ${rateRatio("delegated", "local")} (goal ≥ 0.9)`);
} finally {
  await grpc.close();
  await Promise.all(links.map((l) => l.close()));
  await relay.stop();
  await node.stop();
  await registry.stop();
  await removeTestImages();
}
