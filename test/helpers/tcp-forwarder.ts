import net from "node:net";

/** A TCP forwarder to a loopback port: what a test puts between a client and a server to cut or slow the link, or to reach it from another address. */
export interface TcpForwarder {
  /** The port it listens on, on its `host`. */
  readonly port: number;
  /** Stops listening and cuts every forwarded connection. */
  close(): Promise<void>;
}

export interface TcpForwarderOptions {
  /** The address to listen on (default 127.0.0.1), such as a container network's gateway. */
  readonly host?: string;
  /** The port to listen on; any free one when absent. */
  readonly port?: number;
  /**
   * Holds every piece of data this long before it passes, both ways and in
   * order: a link with a round trip of twice `delayMs` and (nearly)
   * unlimited bandwidth, such as a builder node in another zone. 0 (the
   * default) pipes the bytes as they come.
   */
  readonly delayMs?: number;
}

/**
 * Forwards each connection to `target` on 127.0.0.1. Backpressure passes
 * through: a side is paused while its peer's buffer is full. Closing it
 * makes new callers get ECONNREFUSED until a forwarder listens on the port
 * again.
 */
export async function startTcpForwarder(target: number, options: TcpForwarderOptions = {}): Promise<TcpForwarder> {
  const delayMs = options.delayMs ?? 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      // A broken side breaks the link: the other side is cut too.
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    if (delayMs === 0) {
      client.pipe(upstream).pipe(client);
      return;
    }
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    delayed(client, upstream, delayMs);
    delayed(upstream, client, delayMs);
  });
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await new Promise((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the TCP forwarder has no TCP address");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Passes what `from` reads to `to`, each piece `delayMs` later. */
function delayed(from: net.Socket, to: net.Socket, delayMs: number): void {
  let waiting = false;
  from.on("data", (piece: Buffer) => {
    setTimeout(() => {
      if (to.destroyed || to.write(piece) || waiting) return;
      waiting = true;
      from.pause();
      to.once("drain", () => {
        waiting = false;
        from.resume();
      });
    }, delayMs);
  });
  from.on("end", () => setTimeout(() => to.end(), delayMs));
}
