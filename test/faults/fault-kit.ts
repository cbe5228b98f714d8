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
