import net from "node:net";

/** A TCP forwarder on loopback whose link has a round trip of `delayMs` × 2. */
export interface DelayProxy {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Stops listening and cuts every forwarded connection. */
  close(): Promise<void>;
}

/**
 * Forwards each connection to `target` on 127.0.0.1, holding every piece of
 * data `delayMs` before it passes, both ways and in order: a link with a
 * round trip of twice `delayMs` and (nearly) unlimited bandwidth, such as a
 * builder node in another zone. Backpressure passes through: a side is
 * paused while its peer's buffer is full.
 */
export async function startDelayProxy(target: number, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  const forward = (from: net.Socket, to: net.Socket): void => {
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
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on("error", () => s.destroy());
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the delay proxy has no TCP address");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
