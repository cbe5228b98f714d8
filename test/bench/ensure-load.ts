// EnsureImage under load: a `buildplane serve` (compiled dist/, registry
// configured, the image already built) answers EnsureImage for that image
// with the commit pinned, and `grpc.health.v1.Health/Check` — the ceiling:
// same port, same interceptors, no work — from 64 concurrent callers over
// gRPC on loopback (one HTTP/2 connection per 8 callers). The two loads run
// side by side in alternating rounds; the medians' ratio is printed (goal:
// EnsureImage at least half of Health/Check). Also printed: the server's
// resident memory before and after (it must not grow per request) and
// whether it printed a MaxListenersExceededWarning.
// Run: node --import tsx test/bench/ensure-load.ts  (BENCH_ROUNDS=N for more rounds)
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Health } from "../../libs/gen/grpc/health/v1/health_pb.js";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { cliEnv } from "../e2e/cli-process.js";
import { makeGitRepo } from "../helpers/make-git-repo.js";
import { startRegistry } from "../helpers/start-registry.js";
import { tempDir } from "../helpers/temp-dir.js";
import { startServe } from "../rpc/serve-process.js";

const CONCURRENCY = 64;
const CALLERS_PER_CONNECTION = 8;
const ROUND_MS = 4000;
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? "3");

/** Runs `call` from `concurrency` loops for `ms`; resolves with completed calls per second. */
async function load(call: (i: number) => Promise<void>, ms: number): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      while (performance.now() < until) {
        await call(i);
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}

const registry = await startRegistry();
const nonce = randomBytes(6).toString("hex");
const repo = await makeGitRepo({ "app/Containerfile": "FROM local/busybox:1\nCOPY nonce.txt /nonce.txt\n", "app/nonce.txt": `${nonce}\n` });
const data = await tempDir("bench-ensure-load-");
const server = await startServe(
  [],
  cliEnv(data.path, { BUILDPLANE_REGISTRY_URL: registry.host, BUILDPLANE_REGISTRY_INSECURE: "true", BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path }),
);
const managers = Array.from({ length: CONCURRENCY / CALLERS_PER_CONNECTION }, () => new Http2SessionManager(server.url));
const transports = managers.map((sessionManager) => createGrpcTransport({ baseUrl: server.url, sessionManager }));
const health: Client<typeof Health>[] = transports.map((t) => createClient(Health, t));
const resolver: Client<typeof ResolverService>[] = transports.map((t) => createClient(ResolverService, t));
const spec = { source: { repository: repo.url, ref: repo.commit, dir: "app" } };
const connection = (i: number): number => Math.floor(i / CALLERS_PER_CONNECTION);

async function ensure(i: number, expectCached: boolean): Promise<void> {
  let last: string | undefined;
  for await (const res of (resolver[connection(i)] ?? resolver[0])!.ensureImage({ spec })) last = res.event?.event.case;
  if (last !== "ready") throw new Error(`EnsureImage ended with ${last ?? "nothing"}`);
  if (expectCached && last !== "ready") throw new Error("not served from cache");
}
async function check(i: number): Promise<void> {
  await (health[connection(i)] ?? health[0])!.check({ service: "" });
}

try {
  await ensure(0, false); // builds and pushes the image once
  for (let i = 0; i < 200; i++) await ensure(0, true); // warm-up, JIT
  const before = rssKiB(server.child.pid ?? 0);
  const checks: number[] = [];
  const ensures: number[] = [];
  // RSS after each round: growth per request keeps rising round after round;
  // a heap that settles at its working size levels off.
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    checks.push(await load(check, ROUND_MS));
    ensures.push(await load((i) => ensure(i, true), ROUND_MS));
    rounds.push(rssKiB(server.child.pid ?? 0));
  }
  const after = rssKiB(server.child.pid ?? 0);
  const hc = median(checks);
  const en = median(ensures);
  const rows: [string, string][] = [
    [`Health/Check, ${CONCURRENCY} callers (median of ${ROUNDS} × ${ROUND_MS / 1000} s)`, `${hc.toFixed(0)} req/s`],
    [`EnsureImage, existing image, commit pinned, ${CONCURRENCY} callers`, `${en.toFixed(0)} req/s`],
    ["ratio EnsureImage / Health/Check (goal ≥ 0.5)", en / hc >= 0.5 ? (en / hc).toFixed(2) : `${(en / hc).toFixed(2)} (below the goal)`],
    ["server RSS before → after the rounds", `${(before / 1024).toFixed(0)} MiB → ${(after / 1024).toFixed(0)} MiB`],
    ["server RSS after each round", rounds.map((kib) => `${(kib / 1024).toFixed(0)}`).join(", ") + " MiB"],
    ["MaxListenersExceededWarning printed", /MaxListenersExceededWarning/.test(server.stderr()) ? "yes" : "no"],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
} finally {
  for (const m of managers) m.abort();
  server.child.kill("SIGTERM");
  await server.exited;
  await registry.stop();
  await repo.remove();
  await data.remove();
}
