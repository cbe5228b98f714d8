import { cliEnv, runCli, type CliEvent } from "../e2e/cli-process.js";

/** Matches a `log` event whose text contains `text`. */
export const isLog = (text: string) => (e: CliEvent): boolean => e.type === "log" && String(e["text"]).includes(text);

/** The stored log of a build, line by line, read back through `buildplane builds logs`. */
export async function storedLog(env: NodeJS.ProcessEnv, buildId: string): Promise<string[]> {
  const r = await runCli(["builds", "logs", buildId], env);
  if (r.code !== 0) throw new Error(`builds logs ${buildId} exited with ${r.code}: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** The text of every `log` event a caller saw. */
export function logTexts(events: readonly CliEvent[]): string[] {
  return events.filter((e) => e.type === "log").map((e) => String(e["text"]));
}

/**
 * Asserts that every line `seen` (what a caller was streamed) is in
 * `stored` (what the records keep), in the same order: nothing a caller
 * saw was lost from the record.
 */
export function missingFrom(stored: readonly string[], seen: readonly string[]): string[] {
  const missing: string[] = [];
  let at = 0;
  for (const line of seen) {
    const i = stored.indexOf(line, at);
    if (i < 0) missing.push(line);
    else at = i + 1;
  }
  return missing;
}

export { cliEnv };

import net from "node:net";

/**
 * A TCP forwarder on 127.0.0.1:`port` to 127.0.0.1:`target` that a test
 * cuts (stops listening, drops every forwarded connection: callers get
 * ECONNREFUSED) and restores on the same port.
 */
export interface CuttableProxy {
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
}

export async function startCuttableProxy(port: number, target: number): Promise<CuttableProxy> {
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  const restore = async () => {
    if (server) return;
    const s = net.createServer((client) => {
      const upstream = net.connect(target, "127.0.0.1");
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on("close", () => sockets.delete(sock));
        sock.on("error", () => sock.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    s.listen(port, "127.0.0.1");
    await new Promise((resolve, reject) => {
      s.once("listening", resolve);
      s.once("error", reject);
    });
    server = s;
  };
  const cut = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      if (!s) return resolve();
      s.close(() => resolve());
      for (const sock of sockets) sock.destroy();
    });
  await restore();
  return { port, cut, restore };
}
