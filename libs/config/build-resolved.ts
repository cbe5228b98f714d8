import { Secret, secretOrUndefined } from "../secret/secret.js";
import { parseBuilderMode } from "./builder-mode.js";
import { sectionSpec } from "./config-schema.js";
import type { BuilderMode, GitAuthConfig, KubernetesToleration, LogLevel, ResolvedConfig } from "./config-types.js";
import { expandPath, valueOf, type Entries } from "./config-entries.js";
import { effectiveBuilderMode, isInKubernetes } from "./runtime-env.js";
import { splitScopes } from "../rpc/scope-names.js";

/**
 * Builds the frozen `ResolvedConfig` from entries that passed every check:
 * defaults fill what is not set, `~` is expanded, the database defaults to
 * SQLite in the data folder.
 */
export function buildResolved(entries: Entries, sourceFile: string | undefined, env: NodeJS.ProcessEnv, cwd: string): ResolvedConfig {
  const s = (section: string, key: string): string => String(valueOf(entries, section, key));
  const n = (section: string, key: string): number => Number(valueOf(entries, section, key));
  const b = (section: string, key: string): boolean => valueOf(entries, section, key) === true;
  const m = (section: string, key: string): Record<string, string> => {
    const v = valueOf(entries, section, key);
    return typeof v === "object" && !Array.isArray(v) ? { ...(v as Readonly<Record<string, string>>) } : {};
  };
  const l = (section: string, key: string): string[] => {
    const v = valueOf(entries, section, key);
    return Array.isArray(v) ? v.map(String) : [];
  };
  const secret = (section: string, key: string): Secret | undefined => secretOrUndefined(s(section, key));

  const parsed = parseBuilderMode(s("builder", "mode"));
  const mode: BuilderMode = "mode" in parsed ? parsed.mode : { kind: "auto" };
  const inKubernetes = isInKubernetes(env);
  const dataDir = expandPath(s("system", "data_dir"), cwd, env);
  const db = s("metadata", "db_connection");

  const gitAuth: Record<string, GitAuthConfig> = {};
  const gitSpec = sectionSpec("git_auth");
  for (const [name, e] of entries.gitAuth) {
    const raw = (key: string): unknown => {
      const set = e.keys.get(key);
      return set ? set.value : gitSpec?.keys.find((k) => k.key === key)?.default;
    };
    const get = (key: string): string => String(raw(key) ?? "");
    const hosts = raw("hosts");
    gitAuth[name] = {
      userId: get("user_id"),
      password: secretOrUndefined(get("password")),
      keyFilePath: get("key_file_path"),
      privateKey: secretOrUndefined(get("private_key")),
      hosts: Array.isArray(hosts) ? hosts.map((h) => String(h).toLowerCase()) : [],
      allowPlaintext: raw("allow_plaintext") === true,
    };
  }

  const config: ResolvedConfig = {
    builder: {
      modeText: s("builder", "mode"),
      mode,
      effectiveMode: effectiveBuilderMode(mode, inKubernetes),
      kanikoImage: s("builder", "kaniko_image"),
      kanikoCache: b("builder", "kaniko_cache"),
      kanikoCacheRepo: s("builder", "kaniko_cache_repo"),
      buildTimeoutSecs: n("builder", "build_timeout_secs"),
      shutdownGraceSecs: n("builder", "shutdown_grace_secs"),
      maxQueue: n("builder", "max_queue"),
      leaseTtlSecs: n("builder", "lease_ttl_secs"),
      maxUploadBytes: n("builder", "max_upload_bytes"),
      uploadTimeoutSecs: n("builder", "upload_timeout_secs"),
      nodeCaFile: s("builder", "node_ca_file"),
      nodeClientCertFile: s("builder", "node_client_cert_file"),
      nodeClientKeyFile: s("builder", "node_client_key_file"),
      allowedRegistries: l("builder", "allowed_registries").map((h) => h.toLowerCase()),
      requireTlsToNodes: b("builder", "require_tls_to_nodes"),
    },
    registry: {
      url: s("registry", "url").replace(/\/+$/, ""),
      project: s("registry", "project"),
      type: s("registry", "type").toLowerCase() === "ecr" ? "ecr" : "",
      username: s("registry", "username"),
      password: secret("registry", "password"),
      passwordFile: s("registry", "password_file"),
      caFile: s("registry", "ca_file"),
      clientCertFile: s("registry", "client_cert_file"),
      clientKeyFile: s("registry", "client_key_file"),
      insecure: b("registry", "insecure"),
      awsRegion: s("registry", "aws_region"),
      pushCheckTtlSecs: n("registry", "push_check_ttl_secs"),
      existsCacheTtlSecs: n("registry", "exists_cache_ttl_secs"),
    },
    system: {
      dataDir,
      containerCommand: s("system", "container_command"),
      builderAuthToken: secret("system", "builder_auth_token"),
      maxConcurrentBuilds: n("system", "max_concurrent_builds"),
      maxBuildWaitSecs: n("system", "max_build_wait_secs"),
      useImagePreBuildStep: b("system", "use_image_pre_build_step"),
      gitCheckoutCacheEntries: n("system", "git_checkout_cache_entries"),
      gitRemoteCheckIntervalSecs: n("system", "git_remote_check_interval_secs"),
      gitOperationTimeoutSecs: n("system", "git_operation_timeout_secs"),
      maxLogLinesPerBuild: n("system", "max_log_lines_per_build"),
    },
    security: {
      adminOverTcp: b("security", "admin_over_tcp") || b("security", "unsafe_admin_over_tcp"),
      defaultGitAuth: s("security", "default_git_auth"),
      allowUnauthenticated: b("security", "allow_unauthenticated"),
      readToken: secret("security", "read_token"),
      buildToken: secret("security", "build_token"),
      adminToken: secret("security", "admin_token"),
    },
    source: { localRoots: l("source", "local_roots").map((root) => expandPath(root, cwd, env)) },
    log: { level: s("log", "level") as LogLevel },
    hooks: { secret: secret("hooks", "secret"), maxBodyBytes: n("hooks", "max_body_bytes"), bodyTimeoutSecs: n("hooks", "body_timeout_secs") },
    gc: { keep: n("gc", "keep"), olderThanSecs: n("gc", "older_than_secs"), intervalSecs: n("gc", "interval_secs") },
    http: {
      host: s("http", "host"),
      port: n("http", "port"),
      redirectToHttps: b("http", "redirect_to_https"),
      maxMessageBytes: n("http", "max_message_bytes"),
      headersTimeoutSecs: n("http", "headers_timeout_secs"),
      idleTimeoutSecs: n("http", "idle_timeout_secs"),
      streamKeepaliveSecs: n("http", "stream_keepalive_secs"),
    },
    https: {
      certFile: s("https", "cert_file"),
      keyFile: s("https", "key_file"),
      clientCaFile: s("https", "client_ca_file"),
      clientScopes: Object.fromEntries(Object.entries(m("https", "client_scopes")).map(([id, text]) => [id, splitScopes(text)])),
    },
    metadata: {
      dbConnection: new Secret(db === "" ? `sqlite:${dataDir}/buildplane.db` : db),
      poolSize: n("metadata", "pool_size"),
      statementTimeoutSecs: n("metadata", "statement_timeout_secs"),
      outageBudgetSecs: n("metadata", "outage_budget_secs"),
    },
    kubernetes: {
      namespace: s("kubernetes", "namespace"),
      kubeconfig: s("kubernetes", "kubeconfig"),
      jobTtlSecs: n("kubernetes", "job_ttl_secs"),
      serviceAccount: s("kubernetes", "service_account"),
      resourcesRequests: m("kubernetes", "resources_requests"),
      resourcesLimits: m("kubernetes", "resources_limits"),
      nodeSelector: m("kubernetes", "node_selector"),
      podLabels: m("kubernetes", "pod_labels"),
      podAnnotations: m("kubernetes", "pod_annotations"),
      tolerations: tolerations(valueOf(entries, "kubernetes", "tolerations")),
      podStartTimeoutSecs: n("kubernetes", "pod_start_timeout_secs"),
      uploadTimeoutSecs: n("kubernetes", "upload_timeout_secs"),
    },
    services: {
      configUrl: s("services", "config_url"),
      metadataUrl: s("services", "metadata_url"),
      sourceUrl: s("services", "source_url"),
      resolverUrl: s("services", "resolver_url"),
      builderUrl: s("services", "builder_url"),
      lifecycleUrl: s("services", "lifecycle_url"),
      token: secret("services", "token"),
    },
    gitAuth,
    sourceFile,
    runtime: { inKubernetes },
  };
  return deepFreeze(config);
}

/** Checked `[[kubernetes.tolerations]]` tables with Kubernetes' defaults (operator Equal). */
function tolerations(value: unknown): KubernetesToleration[] {
  if (!Array.isArray(value)) return [];
  return (value as readonly Readonly<Record<string, string | number>>[]).map((t) => {
    const seconds = t["toleration_seconds"];
    return {
      key: String(t["key"] ?? ""),
      operator: t["operator"] === "Exists" ? "Exists" : "Equal",
      value: String(t["value"] ?? ""),
      effect: (["NoSchedule", "PreferNoSchedule", "NoExecute"] as const).find((e) => e === t["effect"]) ?? "",
      tolerationSeconds: typeof seconds === "number" ? seconds : undefined,
    };
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
