import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import Docker from "dockerode";
import { pushImage, type RegistryAccess } from "./kaniko-push.js";

/** What the emulated executor sees inside its container. */
export interface KanikoRun {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Files mounted into the container (secret volumes), by absolute path. */
  readonly files: ReadonlyMap<string, string>;
  readonly stdin: Readable;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal;
}

export interface KanikoExit {
  readonly exitCode: number;
  /** The content of /dev/termination-log (the kubelet's termination message). */
  readonly terminationMessage: string;
}

interface DockerAuth { username?: string; password?: string; auth?: string }

/**
 * Plays Kaniko's executor for real: reads `--context=tar://stdin` as a
 * gzipped tar (as Kaniko does), builds it on the local engine with the
 * `--dockerfile`, `--build-arg` (a bare `NAME` takes the value from the
 * environment) and `--target`, then pushes every `--destination` itself (see
 * `pushImage`) using only the credentials of `$DOCKER_CONFIG/config.json`
 * (`/kaniko/.docker`), the `--registry-certificate=<host>=<path>` CA and the
 * `--registry-client-cert=<host>=<cert>,<key>` pair read from the mounted
 * files, and plain HTTP only for an `--insecure-registry=<host>`, and writes
 * the digest to `--digest-file`. `--cache`, `--cache-repo` and
 * `--custom-platform` are accepted and ignored.
 */
export async function runKaniko(run: KanikoRun, docker: Docker = new Docker()): Promise<KanikoExit> {
  const flags = parseFlags(run.args);
  const fail = (msg: string): KanikoExit => { run.log(`error: ${msg}`); return { exitCode: 1, terminationMessage: "" }; };
  if (flags.get("context")?.[0] !== "tar://stdin") return fail(`unsupported context: ${flags.get("context")?.[0] ?? "none"}`);
  const destinations = flags.get("destination") ?? [];
  if (destinations.length === 0) return fail("you must provide --destination, or use --no-push");
  const buildargs: Record<string, string> = {};
  for (const a of flags.get("build-arg") ?? []) {
    const eq = a.indexOf("=");
    if (eq >= 0) buildargs[a.slice(0, eq)] = a.slice(eq + 1);
    else if (a in run.env) buildargs[a] = run.env[a] ?? "";
  }
  const configText = run.files.get("/kaniko/.docker/config.json");
  run.log(`INFO Retrieving image manifest and unpacking context from stdin`);
  const temp = `kaniko-emulator/${randomBytes(6).toString("hex")}:build`;
  const cleanup: string[] = [temp];
  try {
    const gunzip = createGunzip();
    const gz = run.stdin.pipe(gunzip);
    const gzError = new Promise<never>((_, reject) => gunzip.once("error", (e) => reject(new Error(`error unpacking context: ${e.message}`))));
    const target = flags.get("target")?.[0];
    const stream = await docker.buildImage(gz as unknown as NodeJS.ReadableStream, {
      t: temp, dockerfile: flags.get("dockerfile")?.[0] ?? "Dockerfile", buildargs, ...(target ? { target } : {}), rm: true, forcerm: true,
      abortSignal: run.signal,
    });
    const buildError = await Promise.race([follow(docker, stream, run.log), gzError]);
    if (buildError !== undefined) return fail(`error building image: ${buildError}`);
    let digest = "";
    for (const dest of destinations) {
      const { repo, tag } = splitReference(dest);
      const host = repo.split("/")[0] ?? "";
      const access = registryAccess(flags, run.files, configText, host);
      if (typeof access === "string") return fail(access);
      run.log(`INFO Pushing image to ${dest}`);
      try {
        digest = await pushImage(docker, temp, repo, tag, access, run.signal);
      } catch (e) {
        if (run.signal.aborted) throw e;
        return fail(`error pushing image: failed to push to destination ${dest}: ${(e as Error).message}`);
      }
      run.log(`INFO Pushed ${repo}@${digest}`);
    }
    return { exitCode: 0, terminationMessage: flags.has("digest-file") ? digest : "" };
  } catch (e) {
    return fail(run.signal.aborted ? "terminated" : (e as Error).message);
  } finally {
    for (const t of cleanup) await docker.getImage(t).remove({ noprune: false }).catch(() => undefined);
  }
}

function parseFlags(args: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of args) {
    const m = a.match(/^--([a-z-]+)(?:=(.*))?$/s);
    if (m === null) continue;
    const [, k = "", v = "true"] = m;
    out.set(k, [...(out.get(k) ?? []), v]);
  }
  return out;
}

function splitReference(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: "latest" };
}

/**
 * How to reach `host`, from the flags that name it and the mounted files
 * they point at, or the error Kaniko gives for a file that is not there.
 */
function registryAccess(flags: Map<string, string[]>, files: ReadonlyMap<string, string>, configText: string | undefined,
  host: string): RegistryAccess | string {
  const forHost = (flag: string): string | undefined =>
    (flags.get(flag) ?? []).find((v) => v.startsWith(`${host}=`))?.slice(host.length + 1);
  const caPath = forHost("registry-certificate");
  const caPem = caPath === undefined ? undefined : files.get(caPath);
  if (caPath !== undefined && caPem === undefined) return `failed to read certificate ${caPath} of registry ${host}: open ${caPath}: no such file or directory`;
  const pair = forHost("registry-client-cert");
  let clientCert: RegistryAccess["clientCert"];
  if (pair !== undefined) {
    const [certPath = "", keyPath = ""] = pair.split(",");
    const cert = files.get(certPath);
    const key = files.get(keyPath);
    if (cert === undefined || key === undefined) return `failed to load client certificate/key ${pair} of registry ${host}: open ${cert === undefined ? certPath : keyPath}: no such file or directory`;
    clientCert = { cert, key };
  }
  const basic = authFor(configText, host);
  return {
    host, insecure: (flags.get("insecure-registry") ?? []).includes(host),
    ...(caPem === undefined ? {} : { caPem }), ...(clientCert === undefined ? {} : { clientCert }), ...(basic === undefined ? {} : { basic }),
  };
}

/** Credentials for `host` from a docker config.json, as Kaniko's keychain would find them. */
function authFor(configText: string | undefined, host: string): { username: string; password: string } | undefined {
  if (configText === undefined) return undefined;
  const auths = (JSON.parse(configText) as { auths?: Record<string, DockerAuth> }).auths ?? {};
  const a = auths[host];
  if (a === undefined) return undefined;
  if (a.username !== undefined && a.password !== undefined) return { username: a.username, password: a.password };
  const [username = "", ...rest] = Buffer.from(a.auth ?? "", "base64").toString().split(":");
  return { username, password: rest.join(":") };
}

/** Streams engine progress as log lines; resolves with the error text, if any (followProgress hides it). */
function follow(docker: Docker, stream: NodeJS.ReadableStream, log: (l: string) => void): Promise<string | undefined> {
  return new Promise((resolve) => {
    let error: string | undefined;
    docker.modem.followProgress(stream, (err: Error | null) => resolve(err ? err.message : error), (e: { stream?: string; status?: string; id?: string; error?: string }) => {
      if (e.error !== undefined) error = e.error;
      const text = e.stream ?? e.error ?? (e.status !== undefined ? `${e.id ? `${e.id}: ` : ""}${e.status}` : undefined);
      if (text !== undefined) for (const line of text.split("\n")) if (line.trim() !== "") log(line.replace(/\r$/, ""));
    });
  });
}
