import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { parseHostEntry } from "../git/git-host.js";
import { parseBuilderMode } from "./builder-mode.js";
import { configSchema, envName } from "./config-schema.js";
import type { ConfigDiagnostic } from "./config-types.js";
import { diagnosticAt, getEntry, valueOf, type Entries, type Origin } from "./config-entries.js";
import { keyInside } from "./config-values.js";
import { parseQuantity } from "./kube-values.js";
import { isPlaintextNodeUrl } from "./plaintext-nodes.js";
import { redactDbConnection } from "./redact.js";
import { isInKubernetes } from "./runtime-env.js";

const scheme = /^[a-z][a-z0-9+.-]*:\/\//i;
const serviceUrl = /^https?:\/\/[^/?#\s]+\/?$/;
const registryHostEntry = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i;

/**
 * The checks that look at values together or at the outside world (modes,
 * registry, token, files), run once the file and environment are merged.
 * Each diagnostic points at the key that has to change. `env` tells
 * whether `auto` means kaniko (inside Kubernetes).
 */
export function checkRules(entries: Entries, fileName: string, env: NodeJS.ProcessEnv = {}): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  const str = (section: string, key: string): string => String(valueOf(entries, section, key));
  const report = (section: string, key: string, message: string): void => {
    out.push(diagnosticAt(getEntry(entries, section, key)?.origin, fileName, `${section}.${key}`, message));
  };
  const hint = (section: string, key: string): string => `set [${section}] ${key} (or ${envName(section, key)})`;

  const modeText = str("builder", "mode");
  const mode = parseBuilderMode(modeText);
  const autoKaniko = "mode" in mode && mode.mode.kind === "auto" && isInKubernetes(env);
  const kaniko = autoKaniko || ("mode" in mode && mode.mode.kind === "kaniko");
  if ("error" in mode) report("builder", "mode", mode.error);
  else if (autoKaniko && str("registry", "url") === "") {
    report("builder", "mode", `"auto" resolved to kaniko because KUBERNETES_SERVICE_HOST is set, and kaniko needs a registry: ${hint("registry", "url")}, or set mode = "command"`);
  } else if (mode.mode.kind === "kaniko" || mode.mode.kind === "delegate") {
    if (str("registry", "url") === "") report("builder", "mode", `${JSON.stringify(modeText)} needs a registry: ${hint("registry", "url")}`);
    if (mode.mode.kind === "delegate" && str("system", "builder_auth_token") === "") {
      report("builder", "mode", `${JSON.stringify(modeText)} needs a token: ${hint("system", "builder_auth_token")}`);
    }
  }
  if ("mode" in mode && mode.mode.kind === "delegate" && valueOf(entries, "builder", "require_tls_to_nodes") === true) {
    for (const url of mode.mode.urls.filter(isPlaintextNodeUrl)) {
      report(
        "builder",
        "mode",
        `builder node ${url} is reached over plain HTTP across the network, which [builder] require_tls_to_nodes = true refuses: expected https:// (or a loopback node)`,
      );
    }
  }
  const allowedRegistries = valueOf(entries, "builder", "allowed_registries");
  for (const host of Array.isArray(allowedRegistries) ? (allowedRegistries as readonly string[]) : []) {
    if (!registryHostEntry.test(host)) {
      report("builder", "allowed_registries", `${JSON.stringify(host)} is not valid: expected a registry host[:port] without scheme or path, e.g. "registry.example.com:5000"`);
    }
  }

  const registryUrl = str("registry", "url");
  if (scheme.test(registryUrl)) {
    report("registry", "url", `${JSON.stringify(registryUrl)} must not have a scheme: expected host[:port][/path], e.g. "registry.example.com:5000"`);
  }
  const registryType = str("registry", "type");
  if (registryType !== "" && registryType.toLowerCase() !== "ecr") {
    report("registry", "type", `${JSON.stringify(registryType)} is not valid: expected "" or "ecr"`);
  }
  if (str("registry", "password") !== "" && str("registry", "password_file") !== "") {
    report("registry", "password_file", "set either password or password_file, not both");
  }
  checkPair("registry", "client_cert_file", "client_key_file");
  checkPair("https", "cert_file", "key_file");
  checkPair("builder", "node_client_cert_file", "node_client_key_file");
  if (str("https", "client_ca_file") !== "" && str("https", "cert_file") === "") {
    report("https", "client_ca_file", "client_ca_file needs cert_file and key_file");
  }

  const command = str("system", "container_command");
  if (!["auto", "docker", "podman"].includes(command) && !isAbsolute(command)) {
    report("system", "container_command", `${JSON.stringify(command)} is not valid: expected auto, docker, podman or an absolute path`);
  }
  const db = str("metadata", "db_connection");
  if (db !== "" && !/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(db)) {
    report("metadata", "db_connection", `${JSON.stringify(redactDbConnection(db))} is not valid: expected sqlite:<path> or postgres://user:password@host:port/db`);
  }
  for (const key of ["config_url", "metadata_url", "source_url", "resolver_url", "builder_url", "lifecycle_url"]) {
    const url = str("services", key);
    if (url !== "" && !serviceUrl.test(url)) report("services", key, `${JSON.stringify(url)} is not valid: expected http(s)://host:port or empty`);
  }
  const gitAuth = str("security", "default_git_auth");
  if (gitAuth !== "" && !entries.gitAuth.has(gitAuth)) {
    const names = [...entries.gitAuth.keys()].map((n) => `[git_auth.${n}]`);
    const known = names.length ? `: expected one of ${names.join(", ")}` : ": expected the name of a [git_auth.<name>] section, and there is none";
    report("security", "default_git_auth", `${JSON.stringify(gitAuth)} is not defined${known}`);
  }

  for (const [name, e] of entries.gitAuth) {
    const set = e.keys.get("hosts");
    const hosts = Array.isArray(set?.value) ? set.value.map(String) : [];
    const at = (message: string) => out.push(diagnosticAt(set?.origin ?? e.origin, fileName, `git_auth.${name}.hosts`, message));
    if (hosts.length === 0) {
      at(`[git_auth.${name}] has no hosts, so its credential would go nowhere: set hosts = ["git.example.com"] to the hosts (host or host:port) it may be sent to`);
    }
    for (const h of hosts.filter((h) => parseHostEntry(h) === undefined)) {
      at(`${JSON.stringify(h)} is not valid: expected host or host:port, e.g. "git.example.com" or "git.example.com:8443"`);
    }
  }

  const requests = valueOf(entries, "kubernetes", "resources_requests");
  const limits = valueOf(entries, "kubernetes", "resources_limits") as Readonly<Record<string, string>>;
  for (const [name, request] of Object.entries(requests as Readonly<Record<string, string>>)) {
    const limit = limits[name];
    const r = parseQuantity(request);
    const l = limit === undefined ? undefined : parseQuantity(limit);
    if (r !== undefined && l !== undefined && r > l) {
      const origin = getEntry(entries, "kubernetes", "resources_requests")?.origin;
      out.push(diagnosticAt(origin, fileName, keyInside("kubernetes.resources_requests", [name]),
        `${JSON.stringify(request)} is more than the limit ${JSON.stringify(limit)}: expected a request no larger than resources_limits.${name}`));
    }
  }

  for (const section of configSchema) {
    for (const spec of section.keys.filter((k) => k.readableFile)) {
      if (section.named) {
        for (const [name, e] of entries.gitAuth) {
          const entry = e.keys.get(spec.key);
          if (entry) checkReadable(`${section.name}.${name}.${spec.key}`, String(entry.value), entry.origin);
        }
      } else {
        const entry = getEntry(entries, section.name, spec.key);
        // An implicit kubeconfig (from KUBECONFIG) matters only to kaniko builds.
        if (entry?.origin.implicit && !kaniko) continue;
        if (entry) checkReadable(`${section.name}.${spec.key}`, String(entry.value), entry.origin);
      }
    }
  }
  return out;

  function checkPair(section: string, a: string, b: string): void {
    const hasA = str(section, a) !== "";
    const hasB = str(section, b) !== "";
    if (hasA !== hasB) report(section, hasA ? a : b, `set both ${a} and ${b}, or neither`);
  }

  function checkReadable(key: string, path: string, origin: Origin): void {
    if (path === "") return;
    try {
      accessSync(path, constants.R_OK);
      if (!statSync(path).isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      out.push(diagnosticAt(origin, fileName, key, `${JSON.stringify(path)} cannot be read (${code}): expected a readable file`));
    }
  }
}
