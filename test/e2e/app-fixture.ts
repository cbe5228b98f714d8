import { randomBytes } from "node:crypto";
import { makeGitRepo, type RepoFile, type TestGitRepo } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";

/**
 * A multi-stage Containerfile with a build arg: the first stage writes a
 * greeting and the list of files it received (so an ignored file shows up
 * if it leaks into the context), the second stage prints both.
 */
export const multiStageContainerfile = `FROM local/busybox:1 AS build
ARG GREETING=hello
COPY . /src
RUN echo "$GREETING from $(cat /src/name.txt)" > /out.txt && ls -A /src | tr '\\n' ' ' > /files.txt
FROM local/busybox:1
COPY --from=build /out.txt /files.txt /app/
COPY main.sh /app/main.sh
CMD ["sh", "/app/main.sh"]
`;

/**
 * A repository whose app lives in `app/` (multi-stage Containerfile, build
 * arg, .dockerignore dropping `*.log`), plus a README outside the folder.
 * `files` adds or replaces files; `nonce` makes this app's layers unique to
 * the test so the engine cache of another test never serves them.
 */
export async function makeAppRepo(files: Readonly<Record<string, RepoFile>> = {}): Promise<TestGitRepo & { readonly nonce: string }> {
  const nonce = randomBytes(6).toString("hex");
  const repo = await makeGitRepo({
    "README.md": "an app in a subfolder\n",
    "app/Containerfile": multiStageContainerfile,
    "app/.dockerignore": "*.log\n",
    "app/main.sh": 'cat /app/out.txt\necho "files: $(cat /app/files.txt)"\n',
    "app/name.txt": "widget\n",
    "app/notes.log": "ignored by .dockerignore\n",
    "app/nonce.txt": `${nonce}\n`,
    ...files,
  });
  return Object.assign(repo, { nonce });
}

/** Which local engine a command talks to. */
export type EngineCli = "docker" | "podman";

/**
 * Removes images by reference, ignoring those already gone. Their untagged
 * parents stay: they are the layer cache a build in another test file may be
 * building on at that moment (removing one fails that build with "unable to
 * find image").
 */
export async function removeImages(engine: EngineCli, refs: Iterable<string>): Promise<void> {
  for (const ref of new Set(refs)) {
    if (ref === "") continue;
    await runCommand(engine, ["rmi", "--force", "--no-prune", ref]).catch(() => undefined);
  }
}

/**
 * Removes every image on the engine these builds made, under whatever name
 * (a local name, a registry reference): each carries its build id as the
 * `buildplane.build-id` label. Untagged parents stay, as with `removeImages`.
 */
export async function removeImagesOfBuilds(engine: EngineCli, buildIds: Iterable<string>): Promise<void> {
  for (const buildId of new Set(buildIds)) {
    if (buildId === "") continue;
    const found = await runCommand(engine, ["images", "--quiet", "--filter", `label=buildplane.build-id=${buildId}`]).catch(() => undefined);
    const ids = [...new Set(found?.stdout.split("\n").filter(Boolean) ?? [])];
    if (ids.length > 0) await runCommand(engine, ["rmi", "--force", "--no-prune", ...ids]).catch(() => undefined);
  }
}

/** Whether the engine holds an image under `ref`. */
export async function imageExists(engine: EngineCli, ref: string): Promise<boolean> {
  return runCommand(engine, ["image", "inspect", ref]).then(
    () => true,
    () => false,
  );
}

/** `docker run --rm image` (Podman's `run` fails on this machine, so always Docker); resolves with stdout. */
export async function runImage(ref: string): Promise<string> {
  return (await runCommand("docker", ["run", "--rm", ref])).stdout;
}

/** Ids of Docker containers (any state) whose command line contains `marker`. */
export async function containersWith(marker: string): Promise<string[]> {
  const out = await runCommand("docker", ["ps", "--all", "--no-trunc", "--format", "{{.ID}} {{.Command}}"]);
  return out.stdout
    .split("\n")
    .filter((line) => line.includes(marker))
    .map((line) => line.split(" ")[0] ?? "");
}

/** Polls `check` every 200 ms until it returns true or `timeoutMs` passes; resolves with the last result. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}
