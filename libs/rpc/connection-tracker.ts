import type { Socket } from "node:net";
import type { Http2Session, ServerHttp2Session } from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

/**
 * Knows every open connection, HTTP/2 session and in-flight request of a
 * server, so shutdown can stop new work, wait for the running calls, and
 * then tear down what is left (an HTTP/2 session left open keeps the process
 * alive forever).
 */
export interface ConnectionTracker {
  /** Registers a connection as soon as it is accepted. */
  addSocket(socket: Socket): void;
  /** Registers a transport under a TLS socket: only destroyed at the very end. */
  addRawSocket(socket: Socket): void;
  /** Marks a registered connection as carrying an HTTP/2 session. */
  markHttp2(socket: Socket): void;
  addSession(session: ServerHttp2Session): void;
  /** Counts a request until its response closes. */
  trackRequest(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void;
  /** True while an HTTP/1 connection has a request in flight. */
  socketBusy(socket: Socket): boolean;
  /** True while an HTTP/2 session has a request in flight. */
  sessionBusy(session: Http2Session): boolean;
  /** Refuses new work on existing connections: GOAWAY on sessions, idle HTTP/1 sockets closed. */
  drain(): void;
  /** Resolves when no request is in flight. */
  idle(): Promise<void>;
  /** Resolves when every connection and session has closed. */
  closed(): Promise<void>;
  /** Destroys every remaining session and socket. */
  destroyAll(): void;
}

/** Creates an empty tracker. */
export function createConnectionTracker(): ConnectionTracker {
  const sockets = new Set<Socket>();
  const rawSockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  const http1Active = new Map<Socket, number>();
  const http2Sockets = new WeakSet<Socket>();
  const http2Active = new WeakMap<Http2Session, number>();
  let inFlight = 0;
  let draining = false;
  let waiters: (() => void)[] = [];
  let closeWaiters: (() => void)[] = [];
  const settle = (): void => {
    if (inFlight === 0) {
      const ws = waiters;
      waiters = [];
      for (const w of ws) w();
    }
    if (sockets.size === 0 && rawSockets.size === 0 && sessions.size === 0) {
      const ws = closeWaiters;
      closeWaiters = [];
      for (const w of ws) w();
    }
  };
  return {
    addSocket(socket) {
      sockets.add(socket);
      socket.once("close", () => {
        sockets.delete(socket);
        http1Active.delete(socket);
        settle();
      });
      if (draining) socket.destroy();
    },
    addRawSocket(socket) {
      rawSockets.add(socket);
      socket.once("close", () => {
        rawSockets.delete(socket);
        settle();
      });
    },
    markHttp2(socket) {
      http2Sockets.add(socket);
    },
    addSession(session) {
      sessions.add(session);
      session.once("close", () => {
        sessions.delete(session);
        settle();
      });
      if (draining) session.close();
    },
    trackRequest(req, res) {
      inFlight++;
      const http1Socket = req.httpVersionMajor === 1 ? (req.socket as Socket) : undefined;
      if (http1Socket) http1Active.set(http1Socket, (http1Active.get(http1Socket) ?? 0) + 1);
      const session = "stream" in req ? req.stream.session : undefined;
      if (session) http2Active.set(session, (http2Active.get(session) ?? 0) + 1);
      if (draining && http1Socket && !res.headersSent) res.setHeader("connection", "close");
      res.once("close", () => {
        inFlight--;
        if (session) http2Active.set(session, (http2Active.get(session) ?? 1) - 1);
        if (http1Socket) {
          const left = (http1Active.get(http1Socket) ?? 1) - 1;
          http1Active.set(http1Socket, left);
          if (draining && left === 0) http1Socket.end();
        }
        settle();
      });
    },
    socketBusy(socket) {
      return (http1Active.get(socket) ?? 0) > 0;
    },
    sessionBusy(session) {
      return (http2Active.get(session) ?? 0) > 0;
    },
    drain() {
      draining = true;
      for (const session of sessions) session.close();
      for (const socket of sockets) {
        if (!http2Sockets.has(socket) && (http1Active.get(socket) ?? 0) === 0) socket.end();
      }
    },
    idle() {
      return new Promise((resolve) => {
        waiters.push(resolve);
        settle();
      });
    },
    closed() {
      return new Promise((resolve) => {
        closeWaiters.push(resolve);
        settle();
      });
    },
    destroyAll() {
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      for (const socket of rawSockets) socket.destroy();
    },
  };
}
