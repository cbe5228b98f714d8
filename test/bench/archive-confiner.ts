// Archive confiner benchmark: throughput of `confineArchive` against a plain
// PassThrough on the same 300 MiB build context, and the confiner's memory.
// The context is a tar written once to a temp file: 4,000 files of 4 KiB
// with folders and symlinks, then 284 files of 1 MiB of random bytes. Each
// round reads the file in 64 KiB pieces (the size of a gRPC context
// message; the file is in the page cache after the first round) and drains
// it into a sink that only counts bytes, through a PassThrough or through
// the confiner; five rounds, alternating which side goes first; medians are
// reported, as wall-clock MB/s and as MB per CPU second of this process
// (steadier on a loaded machine). A second measure runs the confiner on
// pieces already in memory, for its own cost without any I/O. RSS is
// sampled in the sink during the file rounds: it stays far below the
// archive's size, so nothing holds the whole archive.
// MB here means MiB (2^20 bytes). Run: node --import tsx test/bench/archive-confiner.ts
import { randomBytes } from "node:crypto";
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { PassThrough, Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { confineArchive } from "../../libs/tar/archive-confiner.js";
import { dir, endOfArchive, file, rawHeader, symlink } from "../security/fixtures/raw-tar.js";

const MiB = 1024 * 1024;
const PIECE = 64 * 1024;
const ROUNDS = 5;
const SMALL = 4000;
const BIG = 284;

const bigBody = randomBytes(MiB);
const smallBody = randomBytes(4096).toString("latin1");

/** The context tar, made as it is read, in pieces of PIECE bytes. */
function* contextTar(): Generator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  function* add(b: Buffer): Generator<Buffer> {
    pending.push(b);
    size += b.length;
    while (size >= PIECE) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, PIECE);
      pending = [all.subarray(PIECE)];
      size -= PIECE;
    }
  }
  for (let i = 0; i < SMALL; i++) {
    if (i % 100 === 0) {
      yield* add(dir(`src/m${i / 100}/`));
      yield* add(symlink(`src/m${i / 100}/link`, "f0.txt"));
    }
    yield* add(file(`src/m${Math.floor(i / 100)}/f${i % 100}.txt`, smallBody));
  }
  for (let i = 0; i < BIG; i++) {
    yield* add(rawHeader({ name: `data/blob${i}.bin`, size: MiB }));
    for (let o = 0; o < MiB; o += PIECE) yield* add(bigBody.subarray(o, o + PIECE));
  }
  yield* add(endOfArchive());
  if (size > 0) yield Buffer.concat(pending);
}

let peakRss = 0;

function sink(sampleRss: boolean): { stream: Writable; bytes: () => number } {
  let bytes = 0;
  let writes = 0;
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (sampleRss && ++writes % 64 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
        done();
      },
    }),
    bytes: () => bytes,
  };
}

const work = mkdtempSync(join(tmpdir(), "bench-confiner-"));
const tarPath = join(work, "context.tar");
const fd = openSync(tarPath, "w");
let inBytes = 0;
for (const piece of contextTar()) inBytes += writeSync(fd, piece);
closeSync(fd);

async function round(kind: "passthrough" | "confiner", from: "file" | "memory" = "file"): Promise<{ mbps: number; cpuMbps: number; outBytes: number }> {
  const source = from === "file" ? createReadStream(tarPath, { highWaterMark: PIECE }) : Readable.from(resident);
  const out = sink(from === "file");
  const cpu = process.cpuUsage();
  const start = performance.now();
  if (kind === "passthrough") await pipeline(source, new PassThrough(), out.stream);
  else await pipeline(confineArchive(source), out.stream);
  const secs = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSecs = (used.user + used.system) / 1e6;
  return { mbps: inBytes / MiB / secs, cpuMbps: inBytes / MiB / cpuSecs, outBytes: out.bytes() };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

type Kind = "passthrough" | "confiner";
const wall: Record<Kind, number[]> = { passthrough: [], confiner: [] };
const cpu: Record<Kind, number[]> = { passthrough: [], confiner: [] };
let outBytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  const order: Kind[] = r % 2 === 0 ? ["passthrough", "confiner"] : ["confiner", "passthrough"];
  for (const kind of order) {
    const res = await round(kind);
    wall[kind].push(res.mbps);
    cpu[kind].push(res.cpuMbps);
    if (kind === "confiner") outBytes = res.outBytes;
  }
}

rmSync(work, { recursive: true, force: true });
const resident: Buffer[] = [...contextTar()];
const memory: number[] = [];
for (let r = 0; r < ROUNDS; r++) memory.push((await round("confiner", "memory")).mbps);

const show = (xs: number[]): string => `${xs.map((x) => x.toFixed(0)).join(", ")} (median ${median(xs).toFixed(0)})`;
console.log(`context: ${(inBytes / MiB).toFixed(1)} MiB in, ${(outBytes / MiB).toFixed(1)} MiB out of the confiner, ${SMALL + BIG + SMALL / 50} entries`);
console.log(`passthrough: wall ${show(wall.passthrough)} MB/s; cpu ${show(cpu.passthrough)} MB per CPU second`);
console.log(`confiner:    wall ${show(wall.confiner)} MB/s; cpu ${show(cpu.confiner)} MB per CPU second`);
console.log(`ratio confiner / passthrough: wall ${(median(wall.confiner) / median(wall.passthrough)).toFixed(2)}, cpu ${(median(cpu.confiner) / median(cpu.passthrough)).toFixed(2)}`);
console.log(`confiner on pieces in memory (no I/O): wall ${show(memory)} MB/s`);
console.log(`peak RSS while streaming the file: ${(peakRss / MiB).toFixed(0)} MiB, for a ${(inBytes / MiB).toFixed(0)} MiB archive; load average ${loadavg()[0]?.toFixed(2)}`);
