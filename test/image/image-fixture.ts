import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { join } from "node:path";
import { repoRoot } from "../helpers/buildplane-cli.js";
import { freePort } from "../helpers/free-port.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";

/** The tag the image tests build and run: `npm run image` with BUILDPLANE_IMAGE set to it. */
export const imageTag = "image-test/buildplane:dev";

/** A finished command: exit code and output. */
export interface Exec {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args…` to its end (killed after `timeoutMs`), never rejecting on a non-zero exit. */
export function exec(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? "unknown", stdout, stderr });
    });
  });
}

/** Runs `docker args…` and resolves with its trimmed stdout; rejects naming the command and its stderr on failure. */
export async function docker(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  const r = await exec("docker", args, { timeoutMs });
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited with ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * Builds the image as a user does (`npm run image`: the base made by
 * deploy/make-base.sh, reused when present, then deploy/Dockerfile) and
 * returns how long it took. Layers the engine cached make a second run quick.
 */
export async function buildImage(): Promise<{ seconds: number; output: string }> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, BUILDPLANE_IMAGE: imageTag };
  delete env["BASE"];
  const r = await exec("npm", ["run", "--silent", "image"], { env, timeoutMs: 45 * 60_000 });
  const output = `${r.stdout}\n${r.stderr}`;
  if (r.code !== 0) throw new Error(`npm run image exited with ${r.code}:\n${output.slice(-4000)}`);
  return { seconds: (Date.now() - started) / 1000, output };
}

/** A random name for this run's containers, network and repositories: `image-<hex>`. */
export function runName(): string {
  return `image-${randomBytes(4).toString("hex")}`;
}

/** The group owning the engine socket: containers get it to run builds on the host's engine. */
export async function dockerSocketGid(): Promise<string> {
  const r = await exec("stat", ["-c", "%g", "/var/run/docker.sock"]);
  return r.stdout.trim();
}

/** Creates a user-defined bridge network; resolves with its gateway, the host's address on it. */
export async function createNetwork(name: string): Promise<{ gateway: string; remove(): Promise<void> }> {
  await docker(["network", "create", "--driver", "bridge", "--label", "buildplane-test=image", name]);
  const gateway = await docker(["network", "inspect", "--format", "{{(index .IPAM.Config 0).Gateway}}", name]);
  return { gateway, remove: async () => void (await exec("docker", ["network", "rm", name])) };
}

/** Options of one container run from the image. */
export interface ContainerOptions {
  readonly name: string;
  readonly network: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Mount the host engine's socket and add its group (command-mode builds). */
  readonly engine?: string;
  /** Publish port 25222 on the host's loopback at a free port. */
  readonly publish?: boolean;
  readonly args?: readonly string[];
}

/** A container started in the background. */
export interface Container {
  readonly name: string;
  /** `http://127.0.0.1:<port>` when published. */
  readonly hostUrl: string;
  remove(): Promise<void>;
}

/** Starts `docker run -d` of the image with a fast health check interval, so tests need not wait 15 s per probe. */
export async function startContainer(o: ContainerOptions): Promise<Container> {
  const port = o.publish ? await freePort() : 0;
  const args = ["run", "-d", "--name", o.name, "--network", o.network, "--label", "buildplane-test=image", "--health-interval", "2s", "--health-start-period", "60s"];
  for (const [k, v] of Object.entries(o.env ?? {})) args.push("-e", `${k}=${v}`);
  if (o.engine !== undefined) args.push("-v", "/var/run/docker.sock:/var/run/docker.sock", "--group-add", o.engine);
  if (o.publish) args.push("-p", `127.0.0.1:${port}:25222`);
  args.push(imageTag, ...(o.args ?? []));
  await docker(args);
  return {
    name: o.name,
    hostUrl: `http://127.0.0.1:${port}`,
    remove: async () => void (await exec("docker", ["rm", "-f", "-v", o.name])),
  };
}

/** Waits until the container's HEALTHCHECK (`buildplane health`) reports healthy; rejects with its log when it exits or turns unhealthy. */
export async function waitHealthy(name: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await docker(["inspect", "--format", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", name]);
    if (state === "running healthy") return;
    if (!state.startsWith("running") || state.endsWith("unhealthy") || Date.now() > deadline) {
      const logs = await exec("docker", ["logs", "--tail", "40", name]);
      throw new Error(`container ${name} is "${state}", expected "running healthy":\n${logs.stdout}${logs.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A git daemon serving bare repositories on one address. */
export interface GitServer {
  /** `git://<address>:<port>/<name>.git` */
  url(name: string): string;
  /** Adds a bare clone of `repoPath` as `<name>.git`. */
  add(name: string, repoPath: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `git daemon` on `address` (the network's gateway), serving bare clones from its own temp folder. */
export async function startGitServer(address: string): Promise<GitServer> {
  const dir: TempDir = await tempDir("image-git-");
  const port = await freePort();
  const child: ChildProcess = spawn("git", ["daemon", "--reuseaddr", "--export-all", `--base-path=${dir.path}`, `--listen=${address}`, `--port=${port}`, dir.path], {
    stdio: "ignore",
  });
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(address, port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`git daemon did not listen on ${address}:${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: (name) => `git://${address}:${port}/${name}.git`,
    add: async (name, repoPath) => {
      const r = await exec("git", ["clone", "--quiet", "--bare", repoPath, join(dir.path, `${name}.git`)]);
      if (r.code !== 0) throw new Error(`git clone --bare ${repoPath}: ${r.stderr}`);
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await dir.remove();
    },
  };
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

