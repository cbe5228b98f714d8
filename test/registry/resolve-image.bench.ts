// Benchmark: ResolveImage for an image that exists, in-process and over gRPC
// on loopback, next to OpenRun's `docker image ls --quiet <image>` and one raw
// curl HEAD. The first rows answer Describe from a stub, to show the resolver
// and the registry check alone; the "real source" rows resolve a branch of a
// local git repository through the source service (ls-remote each call, as
// with the default `git_remote_check_interval_secs = 0`, or reused for 60 s).
// Run: node --import tsx test/registry/resolve-image.bench.ts
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as http2 from "node:http2";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import Docker from "dockerode";
import { BuildSpecSchema } from "../../libs/gen/buildplane/v1/common_pb.js";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { pushImageArchive } from "../../libs/registry/push-image-archive.js";
import { createRegistryImageLocator } from "../../services/resolver/image-locator.js";
import { createImageResolver } from "../../services/resolver/resolve-image.js";
import { createResolverService } from "../../services/resolver/service.js";
import { createSourcePort } from "../../services/resolver/source-port.js";
import { imageSpecFromWire } from "../../services/resolver/wire-in.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { createSourceService } from "../../services/source/service.js";
import { createSourceCheckout } from "../../services/source/source-checkout.js";
import { makeGitRepo } from "../helpers/make-git-repo.js";
import { startRegistry } from "../helpers/start-registry.js";
import { tempDir } from "../helpers/temp-dir.js";
import { buildTestImage } from "./engine-image.js";
import { optionsFor } from "./fixtures.js";

const run = promisify(execFile);
const docker = new Docker();

async function measure(label: string, n: number, op: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(20, n); i++) await op();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await op();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(3);
  console.log(`${label.padEnd(52)} n=${String(n).padStart(5)}  p50=${at(0.5)} ms  p99=${at(0.99)} ms`);
}

const reg = await startRegistry();
const id = randomBytes(4).toString("hex");
const removeImage = await buildTestImage(docker, `cli-bench-${id}:1`, id);
const client = createRegistryClient(optionsFor(reg, { insecure: true }));
try {
  const source = createSourcePort(createClient(SourceService, createRouterTransport((r) => {
    r.service(SourceService, { describe: () => ({ commit: "c".repeat(40), treeHash: "t".repeat(40), containerfile: "Containerfile" }) });
  })));
  const registry = { url: reg.host, project: "bench" };
  const spec = create(BuildSpecSchema, { source: { repository: "https://example.com/a.git" }, appId: `app_prd_${id}` });
  const domainSpec = imageSpecFromWire(spec);
  const cached = createImageResolver({ source, registry, locator: createRegistryImageLocator(client) });
  const uncached = createImageResolver({ source, registry, locator: createRegistryImageLocator(client), cacheEntries: 0 });
  const first = await cached(domainSpec, undefined);
  await pushImageArchive(client, (await docker.getImage(`cli-bench-${id}:1`).get()) as unknown as Readable, first.reference);
  await docker.getImage(`cli-bench-${id}:1`).tag({ repo: first.name.split(":")[0] ?? "", tag: first.name.split(":")[1] ?? "" });

  const server = http2.createServer(connectNodeAdapter({ routes: (r) => r.service(ResolverService, createResolverService({ resolveImage: cached })) }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => { sessions.add(s); s.on("close", () => sessions.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const grpc = createClient(ResolverService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));

  await measure("ResolveImage in-process (positive cache)", 5000, () => cached(domainSpec, undefined));
  await measure("ResolveImage in-process (no cache: registry HEAD)", 1000, () => uncached(domainSpec, undefined));
  await measure("ResolveImage over gRPC on loopback (positive cache)", 2000, () => grpc.resolveImage({ spec }));
  // The same check with the real source service on a local repository.
  const repo = await makeGitRepo({ "app/Containerfile": "FROM local/busybox:1\n", "app/main.txt": "bench\n" });
  const data = await tempDir("bench-resolve-source-");
  const realSource = (intervalSecs: number) => {
    const checkout = createSourceCheckout({
      gitRoot: `${data.path}/git-${intervalSecs}`,
      cacheEntries: 0,
      remoteCheckIntervalSecs: intervalSecs,
      operationTimeoutSecs: 600,
      gitAuth: {},
      defaultGitAuth: "",
    });
    return createSourcePort(createClient(SourceService, createRouterTransport((r) => r.service(SourceService, createSourceService({ checkout })), { router: { interceptors: [createErrorInterceptor(silentLogger)] } })));
  };
  const realSpec = imageSpecFromWire(create(BuildSpecSchema, { source: { repository: repo.url, dir: "app" }, appId: `app_prd_${id}` }));
  for (const interval of [0, 60]) {
    const resolver = createImageResolver({ source: realSource(interval), registry, locator: createRegistryImageLocator(client) });
    const named = await resolver(realSpec, undefined);
    await pushImageArchive(client, (await docker.getImage(`cli-bench-${id}:1`).get()) as unknown as Readable, named.reference);
    await measure(`ResolveImage in-process, real source (interval ${interval} s)`, 300, () => resolver(realSpec, undefined));
  }
  await repo.remove();
  await data.remove();

  await measure("docker image ls --quiet <image> (OpenRun's check)", 50, () => run("docker", ["image", "ls", "--quiet", first.name]));
  await measure("curl -I HEAD manifest (one process per check)", 50, () =>
    run("curl", ["-sfI", "-H", "Accept: application/vnd.oci.image.manifest.v1+json", `http://${reg.host}/v2/bench/${first.name.replace(":", "/manifests/")}`]));

  await new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of sessions) s.close(); });
  await docker.getImage(first.name).remove().catch(() => undefined);
} finally {
  client.close();
  await removeImage();
  await reg.stop();
}
