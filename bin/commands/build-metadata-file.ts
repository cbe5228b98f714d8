import { randomBytes } from "node:crypto";
import { renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { BuildEventJson } from "./build-events.js";
import { CliExit, exitCodes } from "./exit.js";

/**
 * Checks `--metadata-file` before the build starts: its folder must exist
 * and the path must not be a folder, so a build is not run for nothing.
 * Returns the absolute path.
 */
export function checkMetadataFile(file: string): string {
  const path = resolve(file);
  const folder = statSync(dirname(path), { throwIfNoEntry: false });
  if (!folder?.isDirectory()) throw new CliExit(exitCodes.usage, `--metadata-file "${file}" is not valid: its folder ${dirname(path)} does not exist`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new CliExit(exitCodes.usage, `--metadata-file "${file}" is not valid: it is a folder, expected a file path`);
  return path;
}

/**
 * Writes the `ready` event as one JSON object, atomically: to a temp file
 * beside it, then renamed over it, so a reader never sees half a file.
 */
export function writeMetadataFile(path: string, ready: Extract<BuildEventJson, { type: "ready" }>): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, `${JSON.stringify(ready, null, 2)}\n`, { flag: "wx", mode: 0o644 });
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new CliExit(exitCodes.failure, `--metadata-file "${path}" cannot be written (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
}
