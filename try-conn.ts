import { randomBytes } from "node:crypto";
import { createClient, ConnectError } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ResolverService } from "./libs/gen/buildplane/v1/resolver_pb.js";
import { makeGitRepo } from "./test/helpers/make-git-repo.js";
import { tempDir } from "./test/helpers/temp-dir.js";
import { cliEnv } from "./test/e2e/cli-process.js";
import { startServe } from "./test/rpc/serve-process.js";
const N = Number(process.argv[2] ?? 120);
const nonce = randomBytes(6).toString("hex");
const repo = await makeGitRepo({ "app/Containerfile": "FROM local/busybox:1\nCOPY id.txt /id.txt\n", "app/id.txt": nonce });
const data = await tempDir("try-");
const server = await startServe([], cliEnv(data.path, { BUILDPLANE_SOURCE_LOCAL_ROOTS: repo.path }));
const sm = new Http2SessionManager(server.url);
const c = createClient(ResolverService, createGrpcTransport({ baseUrl: server.url, sessionManager: sm }));
let done = 0;
const t0 = Date.now();
const res = await Promise.all(Array.from({ length: N }, async () => {
  try { let last = ""; for await (const r of c.ensureImage({ spec: { source: { repository: repo.url, ref: repo.commit, dir: "app" } } }, { signal: AbortSignal.timeout(40000) })) last = r.event?.event.case ?? ""; done++; return last; }
  catch (e) { return "ERR " + ConnectError.from(e).rawMessage; }
}));
const counts: Record<string, number> = {}; for (const r of res) counts[r] = (counts[r] ?? 0) + 1;
console.log(N, Date.now() - t0, JSON.stringify(counts));
console.log(server.stderr().split("\n").filter((l) => !l.includes('"level":"info"')).slice(-10).join("\n"));
sm.abort(); server.kill(); await repo.remove(); await data.remove();
