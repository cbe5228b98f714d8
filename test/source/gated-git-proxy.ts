import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy in front of a `git daemon` that accepts every
 * connection and answers nothing until `open()`: a git server that hangs
 * (never opened) or that is slow (opened when the test says so).
 */
export interface GatedGitProxy {
  /** `git://127.0.0.1:<proxy port>/<name>`. */
  url(name: string): string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Resolves when the `n`-th connection has been accepted. */
  arrived(n: number): Promise<void>;
  /** Resolves when every accepted connection has been closed by its client. */
  allClosed(): Promise<void>;
  /** Starts forwarding held and later connections to the daemon. */
  open(): void;
  stop(): Promise<void>;
}

/** Starts the proxy; `daemonPort` may be 0 for a server that is never opened. */
export async function startGatedGitProxy(daemonPort: number): Promise<GatedGitProxy> {
  const sockets = new Set<Socket>();
  // Held connections keep reading (a paused socket would never see its client go away); what they send waits here.
  const held = new Map<Socket, { early: Buffer[]; keep: (d: Buffer) => void }>();
  let accepted = 0;
  let opened = false;
  const waiters: Array<() => void> = [];
  const notify = () => { for (const w of waiters.splice(0)) w(); };

  const forward = (client: Socket, early: readonly Buffer[]) => {
    const upstream = connect(daemonPort, "127.0.0.1");
    for (const piece of early) upstream.write(piece);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server: Server = createServer((client) => {
    accepted++;
    sockets.add(client);
    client.on("error", () => undefined);
    client.on("close", () => { sockets.delete(client); notify(); });
    if (opened) forward(client, []);
    else {
      const early: Buffer[] = [];
      const keep = (d: Buffer) => void early.push(d);
      client.on("data", keep);
      held.set(client, { early, keep });
    }
    notify();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const until = (done: () => boolean) => new Promise<void>((resolve) => {
    const check = () => (done() ? resolve() : waiters.push(check));
    check();
  });
  return {
    url: (name) => `git://127.0.0.1:${port}/${name}`,
    get accepted() { return accepted; },
    arrived: (n) => until(() => accepted >= n),
    allClosed: () => until(() => sockets.size === 0),
    open() {
      opened = true;
      for (const [client, { early, keep }] of held) {
        client.off("data", keep);
        if (!client.destroyed) forward(client, early);
      }
      held.clear();
    },
    stop: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
