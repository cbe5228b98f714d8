import { spawn, type ChildProcess } from "node:child_process";
import { open, writeFile, readFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { runCommand } from "./run-command.js";
import { tempDir } from "./temp-dir.js";
import { makeTestCerts } from "./test-certs.js";

/** How the throwaway registry is set up. Everything is off by default: plain HTTP, no auth. */
export interface RegistryOptions {
  /** Serve HTTPS with a fresh CA (`caPem`) and a server cert for 127.0.0.1 and localhost. */
  readonly tls?: boolean;
  /** Require Basic auth; `true` uses user "tester" and a random password. Implies nothing about TLS. */
  readonly htpasswd?: boolean | { readonly username: string; readonly password: string };
  /** Require a client certificate signed by the test CA (mTLS); implies `tls`. */
  readonly clientCa?: boolean;
  /**
   * Extra registry configuration merged over the generated one (top-level
   * keys replace), e.g. `{ auth: { token: {…} } }` for the token flow.
   */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
}

/** A running registry owned by one test. */
export interface TestRegistry {
  /** `http://127.0.0.1:<port>` or `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** `127.0.0.1:<port>`, the registry part of an image reference. */
  readonly host: string;
  readonly port: number;
  /** The CA that signed the server and client certificates ("" without TLS). */
  readonly caPem: string;
  readonly caPath: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** "" without htpasswd. */
  readonly username: string;
  readonly password: string;
  /** The registry's temp folder (config, certs, storage under `data/`). */
  readonly dir: string;
  /** Stops the process and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a CNCF distribution registry (`docker-registry` from Debian) on a
 * free loopback port with its own temp folder, optionally with TLS, htpasswd
 * Basic auth and required client certificates, and waits until it accepts
 * connections. Tests of the registry client and of pushes use it so each
 * test has an isolated registry; call `stop()` in `after`.
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const tls = options.tls === true || options.clientCa === true;
  const dir = await tempDir("buildplane-registry-");
  try {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const certs = tls ? await makeTestCerts(dir.path) : undefined;
    const creds = options.htpasswd === true
      ? { username: "tester", password: `pw-${Math.random().toString(36).slice(2)}` }
      : options.htpasswd || undefined;

    const http: Record<string, unknown> = { addr: host, secret: "buildplane-test-secret" };
    if (certs !== undefined) {
      http["tls"] = {
        certificate: certs.serverCertPath,
        key: certs.serverKeyPath,
        ...(options.clientCa === true ? { clientcas: [certs.caPath] } : {}),
      };
    }
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: "warn", accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir.path, "data") }, delete: { enabled: true } },
      http,
    };
    if (creds !== undefined) {
      const line = await runCommand("htpasswd", ["-niB", creds.username], { input: creds.password });
      await writeFile(join(dir.path, "htpasswd"), line.stdout);
      config["auth"] = { htpasswd: { realm: "buildplane-test", path: join(dir.path, "htpasswd") } };
    }
    Object.assign(config, options.extraConfig ?? {});
    // JSON is YAML, so the registry reads it as its config.yml.
    const configPath = join(dir.path, "config.yml");
    await writeFile(configPath, JSON.stringify(config, null, 2));

    const logPath = join(dir.path, "registry.log");
    const child = await spawnRegistry(configPath, logPath);
    const stop = once(async () => {
      process.removeListener("exit", killOnExit);
      await killAndWait(child);
      await dir.remove();
    });
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    try {
      await waitForPort(port, child, logPath);
    } catch (err) {
      await stop();
      throw err;
    }
    return {
      url: `${tls ? "https" : "http"}://${host}`,
      host,
      port,
      caPem: certs?.caPem ?? "",
      caPath: certs?.caPath ?? "",
      clientCertPem: certs?.clientCertPem ?? "",
      clientKeyPem: certs?.clientKeyPem ?? "",
      username: creds?.username ?? "",
      password: creds?.password ?? "",
      dir: dir.path,
      stop,
    };
  } catch (err) {
    await dir.remove();
    throw err;
  }
}

async function spawnRegistry(configPath: string, logPath: string): Promise<ChildProcess> {
  const log = await open(logPath, "a");
  try {
    return spawn("docker-registry", ["serve", configPath], { stdio: ["ignore", log.fd, log.fd] });
  } finally {
    await log.close();
  }
}

async function waitForPort(port: number, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await readFile(logPath, "utf8").catch(() => "");
      throw new Error(`docker-registry exited before listening on port ${port}: ${log.trim().slice(-2000)}`);
    }
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not listen on port ${port} within 15 s`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => resolve(false));
  });
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
