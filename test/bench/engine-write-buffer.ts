// The write buffer of the engine's connections (`libs/engine/engine-agent.ts`):
// the same 300 MiB context uploaded to the local Docker engine by two engines
// side by side, one with buildplane's 1 MiB buffer per connection, the other
// with Node's default of 64 KiB, in BENCH_WRITE_BUFFER_ROUNDS (default 8)
// rounds, each first in every other round, after one upload of each that warms
// them up. The rate is context MiB / time from the call to the engine's first
// log line (the engine holds the whole context then), as in transfer.ts.
// MB here means MiB (2^20 bytes). Run: node --import tsx test/bench/engine-write-buffer.ts
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createEngineAt, type Engine } from "../../libs/engine/engine.js";
import { resolveEngineEndpoint } from "../../libs/engine/engine-endpoint.js";
import { removeTestImages, testTag } from "../delegate/fixtures/test-images.js";
import { median, table } from "./fixtures/figures.js";
import { randomContexts } from "./fixtures/random-context.js";

const MiB = 1024 * 1024;
const CONTEXT_BYTES = 300 * MiB;
const ROUNDS = Math.max(1, Number(process.env["BENCH_WRITE_BUFFER_ROUNDS"] ?? 8) || 8);
const context = randomContexts(CONTEXT_BYTES);

const endpoint = await resolveEngineEndpoint({ command: "docker" });
const engines = { "1 MiB": createEngineAt(endpoint), "64 KiB": createEngineAt(endpoint, { writeBufferBytes: 64 * 1024 }) } as const;
type Kind = keyof typeof engines;
const kinds = Object.keys(engines) as Kind[];

/** MB/s of one upload: a fresh context, up to the engine's first log line. */
async function upload(engine: Engine): Promise<number> {
  const tag = `bench-write-buffer:${testTag()}`;
  const at = performance.now();
  let ms: number | undefined;
  await engine.build({ context: context(`upload-${randomBytes(6).toString("hex")}`), tag, dockerfile: "Containerfile", buildArgs: {} }, () => (ms ??= performance.now() - at), new AbortController().signal);
  await engine.removeImage(tag, { force: true });
  if (ms === undefined) throw new Error("the build ended without an engine log line");
  return CONTEXT_BYTES / MiB / (ms / 1000);
}

try {
  for (const kind of kinds) await upload(engines[kind]);
  const rates: Record<Kind, number[]> = { "1 MiB": [], "64 KiB": [] };
  const rows: string[][] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? kinds : [...kinds].reverse();
    for (const kind of order) rates[kind].push(await upload(engines[kind]));
    const [big, small] = [rates["1 MiB"].at(-1) ?? 0, rates["64 KiB"].at(-1) ?? 0];
    rows.push([`round ${round}`, order[0] as string, big.toFixed(1), small.toFixed(1), (big / small).toFixed(3)]);
  }
  console.log(`A ${CONTEXT_BYTES / MiB} MiB context into the local engine, with a 1 MiB and a 64 KiB write buffer per connection`);
  console.log(table(["round", "first", "1 MiB MB/s", "64 KiB MB/s", "1 MiB / 64 KiB"], rows));
  const ratios = rates["1 MiB"].map((x, i) => x / (rates["64 KiB"][i] ?? x));
  console.log(`median rate: 1 MiB ${(median(rates["1 MiB"]) ?? 0).toFixed(1)} MB/s, 64 KiB ${(median(rates["64 KiB"]) ?? 0).toFixed(1)} MB/s; median of the rounds' ratios 1 MiB / 64 KiB: ${(median(ratios) ?? 0).toFixed(3)}`);
} finally {
  await removeTestImages();
}
