// A builder node's receive path: the CPU a node's RPC port spends taking a
// 300 MiB gRPC Build stream, with the builder's context receive
// (services/builder/wire/grpc-context-receive.ts) against connect's own
// envelope decoder as the baseline, side by side. Two servers run as child
// processes (test/bench/fixtures/receive-server.ts); this process sends each
// the same stream as a main install does (64 KiB chunks, framed by
// `createNodeTransport`) over loopback HTTP/2, in ROUNDS rounds alternating
// which goes first. Reported per 300 MiB, medians of the rounds: the server's
// CPU time (all its threads: the garbage collector's too) and its major
// garbage collections. CPU time is what the node takes from a machine it
// shares with others; the load of the machine does not stretch it as it does
// wall time. MB here means MiB (2^20 bytes).
// Run: node --import tsx test/bench/node-receive.ts
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { Http2SessionManager } from "@connectrpc/connect-node";
import { BuilderService, BuildHeaderSchema, BuildRequestSchema, type BuildRequest } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { createNodeTransport } from "../../services/builder/delegate/context-framing.js";

const MiB = 1024 * 1024;
const TOTAL = 300 * MiB;
const PIECE = 64 * 1024;
const ROUNDS = 5;

interface StreamFigures {
  readonly bytes: number;
  readonly cpuMs: number;
  readonly majorGcs: number;
}

interface ReceiveServer {
  readonly name: string;
  send(): Promise<StreamFigures>;
  stop(): Promise<void>;
}

async function startServer(kind: "filtered" | "connect"): Promise<ReceiveServer> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", new URL("./fixtures/receive-server.ts", import.meta.url).pathname, kind], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const port = Number((await lines.next()).value);
  const baseUrl = `http://127.0.0.1:${port}`;
  const sessionManager = new Http2SessionManager(baseUrl);
  const client = createClient(BuilderService, createNodeTransport({ baseUrl, sessionManager, interceptors: [] }));
  const source = randomBytes(4 * MiB);
  async function* requests(): AsyncGenerator<BuildRequest> {
    yield create(BuildRequestSchema, { message: { case: "header", value: create(BuildHeaderSchema, { buildId: "bench" }) } });
    for (let sent = 0; sent < TOTAL; sent += PIECE) {
      const at = sent % source.byteLength;
      yield create(BuildRequestSchema, { message: { case: "chunk", value: source.subarray(at, at + PIECE) } });
    }
  }
  return {
    name: kind === "filtered" ? "context receive" : "connect's decoder",
    async send() {
      for await (const _ of client.build(requests())) continue;
      const figures = JSON.parse(String((await lines.next()).value)) as StreamFigures;
      if (figures.bytes !== TOTAL) throw new Error(`${kind}: the server read ${figures.bytes} bytes, expected ${TOTAL}`);
      return figures;
    },
    async stop() {
      sessionManager.abort();
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const filtered = await startServer("filtered");
const baseline = await startServer("connect");
try {
  // One stream each first: both servers' code compiled before anything is measured.
  await filtered.send();
  await baseline.send();
  const figures = new Map<ReceiveServer, StreamFigures[]>([[filtered, []], [baseline, []]]);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [filtered, baseline] : [baseline, filtered];
    for (const server of order) figures.get(server)!.push(await server.send());
  }
  console.log(`A node's RPC port taking a 300 MiB gRPC Build stream (64 KiB chunks, framed as a main install sends them), medians of ${ROUNDS} rounds:`);
  console.log("| receive path       | server CPU ms | MB per CPU s | major GCs |");
  console.log("|--------------------|---------------|--------------|-----------|");
  const row = (server: ReceiveServer): number => {
    const runs = figures.get(server)!;
    const cpuMs = median(runs.map((r) => r.cpuMs));
    console.log(`| ${server.name.padEnd(18)} | ${cpuMs.toFixed(0).padStart(13)} | ${(300 / (cpuMs / 1000)).toFixed(0).padStart(12)} | ${String(median(runs.map((r) => r.majorGcs))).padStart(9)} |`);
    return cpuMs;
  };
  const mine = row(filtered);
  const theirs = row(baseline);
  console.log(`server CPU, context receive / connect's decoder: ${(mine / theirs).toFixed(3)}`);
} finally {
  await filtered.stop();
  await baseline.stop();
}
