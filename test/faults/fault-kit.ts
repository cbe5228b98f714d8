import { cliEnv, runCli, type CliEvent } from "../e2e/cli-process.js";
import { startTcpForwarder, type TcpForwarder } from "../helpers/tcp-forwarder.js";

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
  let forwarder: TcpForwarder | undefined;
  const restore = async (): Promise<void> => {
    forwarder ??= await startTcpForwarder(target, { port });
  };
  const cut = async (): Promise<void> => {
    const f = forwarder;
    forwarder = undefined;
    await f?.close();
  };
  await restore();
  return { port, cut, restore };
}
