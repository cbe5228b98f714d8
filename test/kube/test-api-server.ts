import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Docker from "dockerode";
import { KubeConfig } from "@kubernetes/client-node";
import type { KanikoExit, KanikoRun } from "./kaniko-emulator.js";
import { createAttachHandler } from "./kube-attach.js";
import { JobController, type JobControllerOptions } from "./kube-job-controller.js";
import { Kubelet } from "./kube-kubelet.js";
import { applyPatch } from "./kube-patch.js";
import { matchesSelector } from "./label-selector.js";
import { KubeStatusError, badRequest } from "./kube-status.js";
import { KubeStore, resources, type KubeObject, type Resource } from "./kube-store.js";
import { validateObject } from "./kube-validate.js";

export interface TestApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly store: KubeStore;
  /** A client configuration pointing at this server (what a kubeconfig file would give). */
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

/**
 * A Kubernetes API test server: a real HTTP server (free port on loopback)
 * that keeps to the Kubernetes API's paths, verbs, objects and semantics for
 * what the kaniko builder uses — it is a test server of the Kubernetes API,
 * not a mock of our code. It serves Secrets (create, get, patch, delete,
 * list), Jobs (`/apis/batch/v1`, the same verbs, `propagationPolicy`
 * Background/Foreground/Orphan — Orphan being a Job's default as in the real
 * API), Pods (get, list, `watch=true` as JSON lines from a resourceVersion,
 * `labelSelector`), `pods/{name}/log?follow=true` and `pods/{name}/attach`
 * over WebSocket (channel protocol v5/v4). Errors are `Status` objects
 * (404 NotFound, 409 AlreadyExists, 422 Invalid); every object created is
 * validated against the Kubernetes schema. Owner references are garbage
 * collected. A Job controller and a kubelet run its Jobs; the container is
 * played as Kaniko and really builds and pushes with the local engine (see
 * `kaniko-emulator.ts`), or runs `executor` in its place. `ttlSecondsAfterFinished` is ignored. `deadline`
 * chooses how `activeDeadlineSeconds` ends a pod (see `JobControllerOptions`).
 */
export async function startTestApiServer(opts: { docker?: Docker; deadline?: JobControllerOptions["deadline"]; executor?: (run: KanikoRun) => Promise<KanikoExit> } = {}): Promise<TestApiServer> {
  const store = new KubeStore();
  const jobs = new JobController(store, { deadline: opts.deadline });
  const kubelet = new Kubelet(store, opts.docker ?? new Docker(), opts.executor);
  const attach = createAttachHandler(store, kubelet);
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    handle(req, res).catch((e: unknown) => {
      const err = e instanceof KubeStatusError ? e : new KubeStatusError(500, "InternalError", (e as Error).message);
      if (!res.headersSent) send(res, err.code, err.toStatus()); else res.end();
    });
  });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://x");
    const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/attach$/);
    if (m === null) { socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"); return; }
    attach.handle(req, socket, head, m[1] ?? "", m[2] ?? "", url.searchParams);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const m = url.pathname.match(/^\/(?:api\/v1|apis\/batch\/v1)\/namespaces\/([^/]+)\/(secrets|pods|jobs)(?:\/([^/]+))?(?:\/(log))?$/);
    if (m === null) throw new KubeStatusError(404, "NotFound", "the server could not find the requested resource");
    const [, ns = "", res0 = "", name, sub] = m;
    const resource = res0 as Resource;
    if ((resource === "jobs") !== url.pathname.startsWith("/apis/batch/v1/")) throw new KubeStatusError(404, "NotFound", "the server could not find the requested resource");
    const q = url.searchParams;
    if (sub === "log" && resource === "pods" && name !== undefined) return streamLog(res, ns, name, q);
    if (name === undefined) {
      if (req.method === "GET" && q.get("watch") === "true") return watch(req, res, resource, ns, q);
      if (req.method === "GET") {
        return send(res, 200, { kind: `${resources[resource].kind}List`, apiVersion: resources[resource].apiVersion, metadata: { resourceVersion: store.resourceVersion }, items: store.list(resource, ns, q.get("labelSelector")) });
      }
      if (req.method === "POST" && resource !== "pods") {
        const body = (await readJson(req)) as KubeObject;
        if (body.metadata?.namespace !== undefined && body.metadata.namespace !== ns) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
        validateObject(resource, body);
        return send(res, 201, store.create(resource, ns, body));
      }
    } else {
      if (req.method === "GET") return send(res, 200, store.get(resource, ns, name));
      if (req.method === "PATCH") {
        const patch = await readJson(req);
        const ct = req.headers["content-type"] ?? "";
        const cur = store.get(resource, ns, name);
        const next = applyPatch(structuredClone(cur), ct, patch) as KubeObject;
        if (resource !== "pods") validateObject(resource, JSON.parse(JSON.stringify(next)) as KubeObject);
        return send(res, 200, store.update(resource, ns, name, (o) => { for (const k of Object.keys(o)) delete o[k]; Object.assign(o, next); }));
      }
      if (req.method === "DELETE") {
        const body = (await readJson(req).catch(() => ({}))) as { propagationPolicy?: string };
        const policy = q.get("propagationPolicy") ?? body.propagationPolicy ?? (resource === "jobs" ? "Orphan" : "Background");
        if (policy !== "Background" && policy !== "Foreground" && policy !== "Orphan") throw badRequest(`propagationPolicy "${policy}" is not valid`);
        return send(res, 200, store.delete(resource, ns, name, policy));
      }
    }
    throw new KubeStatusError(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
  }

  function watch(req: IncomingMessage, res: ServerResponse, resource: Resource, ns: string, q: URLSearchParams): void {
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    const selector = q.get("labelSelector");
    const rv = q.get("resourceVersion");
    const write = (type: string, object: KubeObject) => res.write(`${JSON.stringify({ type, object })}\n`);
    if (rv === null || rv === "0" || rv === "") for (const o of store.list(resource, ns, selector)) write("ADDED", o);
    const un = store.subscribe(rv !== null && rv !== "" && rv !== "0" ? Number(rv) : undefined, (e) => {
      if (e.resource !== resource || e.object.metadata?.namespace !== ns) return;
      if (matchesSelector(selector, e.object.metadata?.labels)) write(e.type, e.object);
    });
    const timeout = setTimeout(() => res.end(), Number(q.get("timeoutSeconds") ?? "1800") * 1000);
    req.on("close", () => { un(); clearTimeout(timeout); });
    res.on("close", () => { un(); clearTimeout(timeout); });
  }

  function streamLog(res: ServerResponse, ns: string, pod: string, q: URLSearchParams): void {
    const obj = store.get("pods", ns, pod) as { status?: { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } };
    const rt = kubelet.runtimes.get(`${ns}/${pod}`);
    const container = q.get("container") ?? "";
    if (rt === undefined) {
      const reason = obj.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? "ContainerCreating";
      throw badRequest(`container "${container}" in pod "${pod}" is waiting to start: ${reason}`);
    }
    res.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" });
    // Headers go at once, as the real API server sends them, even while the container has printed nothing yet.
    res.flushHeaders();
    for (const l of rt.lines) res.write(`${l}\n`);
    if (q.get("follow") !== "true" || rt.done) { res.end(); return; }
    const listener = (line: string | null) => { if (line === null) res.end(); else res.write(`${line}\n`); };
    rt.listeners.add(listener);
    res.on("close", () => rt.listeners.delete(listener));
  }

  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "test", server: url, skipTLSVerify: true }],
        users: [{ name: "test", token: "test-token" }],
        contexts: [{ name: "test", cluster: "test", user: "test" }],
        currentContext: "test",
      });
      return kc;
    },
    async close() {
      jobs.close();
      attach.close();
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  if (text === "") throw badRequest("empty body");
  try { return JSON.parse(text) as unknown; } catch { throw badRequest("body is not valid JSON"); }
}
