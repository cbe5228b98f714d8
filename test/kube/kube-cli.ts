import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cliEnv, runCli as runBuildplane, type CliRun } from "../helpers/buildplane-cli.js";
import type { TestRegistry } from "../helpers/start-registry.js";
import type { TestApiServer } from "./test-api-server.js";

/** Writes a kubeconfig file (JSON is YAML) whose current context is the stand-in API server. */
export async function writeKubeconfig(api: TestApiServer, dir: string, namespace: string): Promise<string> {
  const path = join(dir, "kubeconfig");
  const config = {
    apiVersion: "v1",
    kind: "Config",
    // client-node 1.4 refuses an http:// server unless TLS verification is off, as with kubectl proxy URLs.
    clusters: [{ name: "test", cluster: { server: api.url, "insecure-skip-tls-verify": true } }],
    users: [{ name: "test", user: { token: "test-token" } }],
    contexts: [{ name: "test", context: { cluster: "test", user: "test", namespace } }],
    "current-context": "test",
  };
  await writeFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

/** What the kaniko-mode configuration file says. */
export interface KanikoConfigFile {
  readonly dir: string;
  readonly mode?: string;
  readonly kubeconfig: string;
  readonly namespace: string;
  /** The htpasswd registry; its password goes to a `password_file`. */
  readonly registry: TestRegistry;
}

/** Writes `buildplane.toml` for a kaniko-mode install with its own data dir; returns its path. */
export async function writeKanikoConfig(c: KanikoConfigFile): Promise<string> {
  const passwordFile = join(c.dir, "registry-password");
  await writeFile(passwordFile, c.registry.password, { mode: 0o600 });
  const q = (s: string): string => JSON.stringify(s);
  const text = [
    "[builder]",
    `mode = ${q(c.mode ?? "kaniko")}`,
    `kaniko_image = "kaniko-test/executor:1"`,
    "build_timeout_secs = 120",
    "",
    "[kubernetes]",
    `kubeconfig = ${q(c.kubeconfig)}`,
    `namespace = ${q(c.namespace)}`,
    "pod_start_timeout_secs = 30",
    "",
    "[registry]",
    `url = ${q(c.registry.host)}`,
    "insecure = true",
    `username = ${q(c.registry.username)}`,
    `password_file = ${q(passwordFile)}`,
    "",
    "[system]",
    `data_dir = ${q(join(c.dir, "data"))}`,
    "",
  ].join("\n");
  const path = join(c.dir, "buildplane.toml");
  await writeFile(path, text);
  return path;
}

export type { CliRun };

/**
 * Runs `node bin/buildplane.js args…` to its end (killed after `timeoutMs`)
 * with the shared CLI runner, also dropping `KUBECONFIG` and
 * `KUBERNETES_SERVICE_HOST`, so only the test's files apply, plus `extra`.
 */
export function runCli(args: readonly string[], extra: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<CliRun> {
  const env = cliEnv(extra);
  for (const k of ["KUBECONFIG", "KUBERNETES_SERVICE_HOST"]) if (!(k in extra)) delete env[k];
  return runBuildplane(args, env, timeoutMs);
}

/** The run's output, for assertion messages. */
export function describeRun(run: CliRun): string {
  return `exit ${String(run.code)}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}
