import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runCommand } from "./run-command.js";
import { tempDir } from "./temp-dir.js";

/** A file to commit: its text, or text plus a mode (e.g. 0o755); `null` deletes it. */
export type RepoFile = string | { readonly content: string; readonly mode: number } | null;

/** A git repository on disk made by a test. */
export interface TestGitRepo {
  /** The working tree (a non-bare repository on branch `main`). */
  readonly path: string;
  /** `file://…` URL of the repository, for clone/fetch (a plain path ignores `--depth`). */
  readonly url: string;
  /** The commit made from the initial files. */
  readonly commit: string;
  /** Writes (or deletes) files and commits them on `main`; resolves with the new commit. */
  commitFiles(files: Readonly<Record<string, RepoFile>>, message?: string): Promise<string>;
  /** Runs `git args…` in the repository and resolves with its trimmed stdout. */
  git(...args: string[]): Promise<string>;
  remove(): Promise<void>;
}

/**
 * Creates a git repository in a temp folder and commits `files` (paths with
 * `/` create folders). Author, committer and dates are fixed, and each later
 * commit is one minute after the previous one, so the same files always give
 * the same commit hashes on every machine: tests may compare them.
 */
export async function makeGitRepo(files: Readonly<Record<string, RepoFile>>): Promise<TestGitRepo> {
  const dir = await tempDir("buildplane-git-");
  let commits = 0;
  const git = async (...args: string[]): Promise<string> => {
    const when = `${1_700_000_000 + commits * 60} +0000`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env["PATH"],
      HOME: dir.path,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Test Author",
      GIT_AUTHOR_EMAIL: "author@example.test",
      GIT_AUTHOR_DATE: when,
      GIT_COMMITTER_NAME: "Test Author",
      GIT_COMMITTER_EMAIL: "author@example.test",
      GIT_COMMITTER_DATE: when,
    };
    const out = await runCommand("git", args, { cwd: dir.path, env });
    return out.stdout.trim();
  };
  const commitFiles = async (next: Readonly<Record<string, RepoFile>>, message = `commit ${commits + 1}`) => {
    for (const [name, file] of Object.entries(next)) {
      const target = join(dir.path, name);
      if (file === null) {
        await rm(target, { force: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, typeof file === "string" ? file : file.content);
      await chmod(target, typeof file === "string" ? 0o644 : file.mode);
    }
    await git("add", "--all");
    await git("commit", "--quiet", "--allow-empty", "-m", message);
    commits += 1;
    return git("rev-parse", "HEAD");
  };
  try {
    await git("init", "--quiet", "--initial-branch=main");
    const commit = await commitFiles(files, "initial");
    return { path: dir.path, url: `file://${dir.path}`, commit, commitFiles, git, remove: dir.remove };
  } catch (err) {
    await dir.remove();
    throw err;
  }
}
