import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A temporary folder a test owns; `remove()` deletes it and everything in it. */
export interface TempDir {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Creates a fresh folder under the OS temp dir, so parallel test files never
 * share paths. Call `remove()` in an `after`/`finally` hook.
 */
export async function tempDir(prefix = "buildplane-test-"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
