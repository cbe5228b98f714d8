import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import tarStream from "tar-stream";
import { runCommand } from "../helpers/run-command.js";

/** An uncompressed tar stream of `files`, produced while it is read (like a real context). */
export function tarContext(files: Readonly<Record<string, string>>): Readable {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  return Readable.from(pack);
}

/** A short random suffix so parallel runs never share image names. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString("hex");
}

/** Reads every entry name of a tar stream. */
export function tarEntryNames(stream: Readable): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const names: string[] = [];
    const extract = tarStream.extract();
    extract.on("entry", (header, body, next) => {
      names.push(header.name);
      body.on("end", next);
      body.resume();
    });
    extract.on("finish", () => resolve(names));
    extract.on("error", reject);
    stream.on("error", reject);
    stream.pipe(extract);
  });
}

/**
 * Ids of the containers — build containers included, Podman's storage-only
 * ones too — created from `image`, as the engine's own CLI lists them.
 */
export async function containersFrom(kind: "docker" | "podman", image: string): Promise<string[]> {
  const args = kind === "docker"
    ? ["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Image}}"]
    : ["ps", "-a", "--external", "--no-trunc", "--format", "{{.ID}} {{.Image}}"];
  const { stdout } = await runCommand(kind, args);
  const bare = image.replace(/^(localhost|docker\.io)\//, "");
  return stdout.split("\n").filter((line) => {
    const name = line.split(" ")[1] ?? "";
    return name.replace(/^(localhost|docker\.io)\//, "") === bare;
  }).map((line) => line.split(" ")[0] ?? "");
}

/** Polls `check` every 200 ms until it returns true or `ms` pass; resolves with its last answer. */
export async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** True when a process whose command line contains `text` runs on this machine. */
export async function processRunning(text: string): Promise<boolean> {
  const { readdir, readFile } = await import("node:fs/promises");
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.replaceAll("\0", " ").includes(text)) return true;
  }
  return false;
}
