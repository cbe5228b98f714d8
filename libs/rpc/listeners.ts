import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { TLSSocket } from "node:tls";
import type { ConnectionTracker } from "./connection-tracker.js";

/** A request handler for both HTTP/1.1 and HTTP/2 (what the RPC adapter is). */
export type DualHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** PEM material for the RPC port; `clientCaPem` turns on client certificates (mTLS). */
export interface TlsOptions {
  readonly certPem: string;
  readonly keyPem: string;
  readonly clientCaPem?: string | undefined;
}

/**
 * Time limits of the port. `headersMs` bounds a slowloris client (a new
 * connection's first bytes and an HTTP/1.1 request's headers); `idleMs`
 * closes a connection with no request in flight on which nothing moved
 * either way. There is no limit on a whole request: a long upload, or a
 * build stream quiet through a long step, is never cut (a request timeout
 * answering 408 mid-upload is what it avoids). A request is in flight only
 * once its credential passed the edge guard, so an anonymous client cannot
 * hold a connection open past these limits.
 */
export interface ListenerLimits {
  readonly headersMs: number;
  readonly idleMs: number;
}

/** `[http] headers_timeout_secs` and `idle_timeout_secs` defaults. */
export const defaultListenerLimits: ListenerLimits = { headersMs: 30_000, idleMs: 600_000 };

/** HTTP/1.1 servers check header deadlines on this interval; at most a second late, never more than half the limit. */
function checkingIntervalMs(limits: ListenerLimits): number {
  return Math.max(100, Math.min(1000, Math.floor(limits.headersMs / 2)));
}

/**
 * HTTP/2 flow-control windows for uploads (build contexts): the default 64 KiB
 * makes a sender wait a round trip for every 64 KiB, so a loaded event loop
 * throttles transfers. A stream's window is sized to the connection's round
 * trip, the shortest of a few pings when the session starts: what a link of about
 * 1 GB/s carries in one round trip (`windowPerRoundTripMs` per ms), at least
 * 1 MiB and at most 16 MiB. On loopback or a LAN that is 1 MiB, which bounds
 * what a client has in flight, so a builder node holds only about a MiB of a
 * context unread: with 4 MiB, a node spent about a third more CPU time per
 * 300 MiB upload (`test/bench/delegate.ts`, warmed-up nodes). Over a link
 * with a 10 ms round trip, 1 MiB would cap one stream at 100 MB/s; the
 * window grows to 10 MB there. 16 MiB per connection leave room for streams
 * side by side, and bound what one client can have unread on this server.
 */
export const streamWindowBytes = 1024 * 1024;
/** The largest stream window, for round trips of 16 ms and more. */
export const maxStreamWindowBytes = 16 * 1024 * 1024;
/** Window bytes per millisecond of round trip: 1 GB/s. */
const windowPerRoundTripMs = 1_000_000;
const streamWindow: http2.Settings = { initialWindowSize: streamWindowBytes };
const connectionWindowBytes = 16 * 1024 * 1024;

/** The stream window for a connection whose round trip took `roundTripMs`. */
export function streamWindowFor(roundTripMs: number): number {
  return Math.min(maxStreamWindowBytes, Math.max(streamWindowBytes, Math.ceil(roundTripMs * windowPerRoundTripMs)));
}

/** How many pings, one after the other, measure a connection's round trip: the shortest counts. */
const roundTripPings = 3;

/** The shortest of `pings` round trips to the client, one ping after the other. */
async function shortestRoundTrip(session: http2.ServerHttp2Session, pings: number): Promise<number> {
  let shortestMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < pings; i++) {
    const ms = await new Promise<number>((resolve, reject) => {
      const sent = session.ping((err, roundTripMs) => (err ? reject(err) : resolve(roundTripMs)));
      if (!sent) reject(new Error("the ping was not sent"));
    });
    shortestMs = Math.min(shortestMs, ms);
  }
  return shortestMs;
}

/**
 * Widens the connection's window, then sizes the session's stream window to
 * the shortest of a few round trips to the client (`streamWindowFor`): a
 * ping answered late because either side was busy does not count as
 * distance. A larger SETTINGS_INITIAL_WINDOW_SIZE applies to the streams
 * already open as well.
 */
function sizeWindows(session: http2.ServerHttp2Session): void {
  const size = (): void => {
    try {
      session.setLocalWindowSize(connectionWindowBytes);
    } catch {
      return; // The session closed before it was set up; nothing to size.
    }
    shortestRoundTrip(session, roundTripPings)
      .then((roundTripMs) => {
        const window = streamWindowFor(roundTripMs);
        if (window !== streamWindowBytes && !session.closed && !session.destroyed) session.settings({ initialWindowSize: window });
      })
      .catch(() => undefined); // The session went away before it was measured or sized.
  };
  if (session.socket && !session.connecting) size();
  else session.once("connect", size);
}

/**
 * Closes (GOAWAY) an HTTP/2 session on which nothing moved for `idleMs` while
 * it had no request in flight. The timer restarts with any frame, so it
 * fires again after a quiet stream ends.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, tracker: ConnectionTracker, limits: ListenerLimits): void {
  session.setTimeout(limits.idleMs, () => {
    if (!tracker.sessionBusy(session)) session.close();
  });
}

const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * A plain TCP listener that serves HTTP/2 with prior knowledge (h2c, what
 * gRPC clients speak) and HTTP/1.1 (curl, fetch, Connect JSON) on the same
 * port: it reads the first bytes of each connection, and hands the socket,
 * bytes put back, to an HTTP/2 server when they are the HTTP/2 preface, else
 * to an HTTP/1.1 server.
 */
export function createPlainListener(handler: DualHandler, tracker: ConnectionTracker, limits: ListenerLimits = defaultListenerLimits): net.Server {
  const h2 = http2.createServer({ settings: streamWindow }, handler);
  h2.on("session", (session) => {
    sizeWindows(session);
    tracker.addSession(session);
    closeWhenIdle(session, tracker, limits);
  });
  const h1 = http.createServer(
    {
      headersTimeout: limits.headersMs,
      requestTimeout: 0,
      // Between requests Node applies this instead of the idle limit: its 5 s default, or less.
      keepAliveTimeout: Math.min(5000, limits.idleMs),
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    handler,
  );
  h1.setTimeout(limits.idleMs);
  // With a listener, Node leaves the decision to us: only a connection without a request in flight is dropped.
  h1.on("timeout", (socket: net.Socket) => {
    if (!tracker.socketBusy(socket)) socket.destroy();
  });
  const server = net.createServer((socket) => {
    tracker.addSocket(socket);
    socket.on("error", () => undefined);
    // A client that connects and says nothing does not hold a socket forever.
    socket.setTimeout(limits.headersMs, () => socket.destroy());
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, http2Preface.length);
      const isPrefaceSoFar = seen.subarray(0, n).equals(http2Preface.subarray(0, n));
      if (isPrefaceSoFar && seen.length < http2Preface.length) return;
      socket.off("data", onData);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(seen);
      if (isPrefaceSoFar) {
        tracker.markHttp2(socket);
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });
  // The HTTP/1.1 server is fed sockets and never listens itself; its header
  // deadlines are checked only once it has seen "listening", and stop at close.
  server.on("listening", () => h1.emit("listening"));
  server.on("close", () => h1.close(() => undefined));
  return server;
}

/**
 * A TLS listener: HTTP/2 and HTTP/1.1 chosen by ALPN; with a client CA, the
 * handshake fails for clients without a certificate signed by it.
 */
export function createTlsListener(handler: DualHandler, tracker: ConnectionTracker, tls: TlsOptions, limits: ListenerLimits = defaultListenerLimits): net.Server {
  const mutual = tls.clientCaPem !== undefined && tls.clientCaPem !== "";
  const server = http2.createSecureServer(
    {
      cert: tls.certPem,
      key: tls.keyPem,
      allowHTTP1: true,
      settings: streamWindow,
      // A client that does not finish its TLS handshake in time is dropped.
      handshakeTimeout: limits.headersMs,
      ...(mutual ? { ca: tls.clientCaPem, requestCert: true, rejectUnauthorized: true } : {}),
    },
    handler,
  );
  server.on("session", (session) => {
    sizeWindows(session);
    tracker.addSession(session);
    closeWhenIdle(session, tracker, limits);
  });
  server.on("connection", (socket: net.Socket) => {
    tracker.addRawSocket(socket);
    socket.on("error", () => undefined);
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    tracker.addSocket(socket);
    if (socket.alpnProtocol === "h2") tracker.markHttp2(socket);
  });
  server.on("tlsClientError", () => undefined);
  return server;
}
