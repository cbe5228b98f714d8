import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Kubelet } from "./kube-kubelet.js";
import type { KubeStatusError } from "./kube-status.js";
import { badRequest, notFound } from "./kube-status.js";
import type { KubeStore } from "./kube-store.js";

/** Subprotocols of the Kubernetes stream protocol, most preferred first. */
const protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"];

/**
 * `pods/{name}/attach` over WebSocket with the channel protocol: each binary
 * message starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error
 * Status, 255 close — v5 only). Stdin goes to the container with
 * backpressure; with `stdinOnce`, closing stdin (or the socket) is EOF.
 */
export function createAttachHandler(store: KubeStore, kubelet: Kubelet) {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => protocols.find((p) => offered.has(p)) ?? false,
  });
  return {
    handle(req: IncomingMessage, socket: Duplex, head: Buffer, ns: string, pod: string, query: URLSearchParams): void {
      try {
        store.get("pods", ns, pod);
        const rt = kubelet.runtimes.get(`${ns}/${pod}`);
        if (rt === undefined || rt.done) throw badRequest(`container ${query.get("container") ?? ""} not found in pod ${pod}`);
        if (query.get("stdin") === "true" && rt.stdinAttached) throw badRequest(`stdin of container in pod ${pod} was already attached once (stdinOnce)`);
        wss.handleUpgrade(req, socket, head, (ws) => serve(ws, rt, query));
      } catch (e) {
        const err = e as KubeStatusError;
        const body = JSON.stringify(err.toStatus?.() ?? notFound("pods", "", pod).toStatus());
        socket.end(`HTTP/1.1 ${err.code ?? 500} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
    },
    close(): void {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}

function serve(ws: WebSocket, rt: NonNullable<ReturnType<Kubelet["runtimes"]["get"]>>, query: URLSearchParams): void {
  const wantStdin = query.get("stdin") === "true";
  if (wantStdin) rt.stdinAttached = true;
  const endStdin = () => { if (wantStdin && !rt.stdin.writableEnded) rt.stdin.end(); };
  ws.on("message", (data: Buffer, isBinary) => {
    if (!isBinary || data.length < 1) return;
    const channel = data[0];
    if (channel === 0 && wantStdin && !rt.stdin.writableEnded) {
      if (!rt.stdin.write(data.subarray(1))) {
        ws.pause();
        rt.stdin.once("drain", () => ws.resume());
      }
    } else if (channel === 255 && data[1] === 0) {
      endStdin();
    }
  });
  ws.on("close", endStdin);
  ws.on("error", endStdin);
  if (query.get("stdout") === "true" || query.get("stderr") === "true") {
    const listener = (line: string | null) => {
      if (line === null) {
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, status: "Success" }))]));
        ws.close();
        return;
      }
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(`${line}\n`)]));
    };
    rt.listeners.add(listener);
    ws.on("close", () => rt.listeners.delete(listener));
  }
}
