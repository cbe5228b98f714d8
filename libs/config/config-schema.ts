/**
 * The one table of every configuration section and key: type, default and a
 * one-line doc. Validation, defaults, `BUILDPLANE_<SECTION>_<KEY>` overrides
 * and docs/configuration.md are all derived from it, so a key exists in all
 * of them or in none.
 */

import { checkNodeSelector, checkPodAnnotations, checkPodLabels, checkResources, checkTolerations } from "./kube-values.js";
import { checkScopeMap } from "./scope-values.js";

/**
 * How a key's value is written in TOML and read from the environment:
 * `list` is an array of strings (comma-separated in the environment),
 * `map` is a table of strings, `tables` an array of tables whose fields
 * are described by `items`.
 */
export type KeyType = "string" | "bool" | "int" | "secret" | "list" | "map" | "tables";

/** One table of a `tables` key, e.g. a toleration. */
export type TableItem = Readonly<Record<string, string | number>>;

/** A value as it sits between parsing and the resolved config. */
export type KeyValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>> | readonly TableItem[];

/** A problem found by a key's own `check`, and where inside the value (`[0, "operator"]`). */
export interface ValueProblem {
  readonly message: string;
  readonly at?: readonly (string | number)[];
}

export interface KeySpec {
  readonly key: string;
  readonly type: KeyType;
  readonly default: KeyValue;
  /** Shown in the docs instead of `default` when the default is computed. */
  readonly defaultDoc?: string;
  readonly doc: string;
  /** Inclusive bounds for integers. */
  readonly min?: number;
  readonly max?: number;
  /** A path that must name a readable file when set (relative to the config file). */
  readonly readableFile?: boolean;
  /** A path (`~` expanded, relative to the config file) that need not exist. */
  readonly path?: boolean;
  /** Another spelling of the named key in the same section. */
  readonly aliasOf?: string;
  /** Accepted for compatibility with OpenRun's files; nothing reads it. */
  readonly unused?: boolean;
  /** The only values a string may take. */
  readonly oneOf?: readonly string[];
  /** The fields of each table of a `tables` key. */
  readonly items?: readonly KeySpec[];
  /** A further check of a value of the right type, e.g. Kubernetes quantities. */
  readonly check?: (value: KeyValue) => ValueProblem | undefined;
}

export interface SectionSpec {
  /** `builder`, or `git_auth` for the `[git_auth.<name>]` family. */
  readonly name: string;
  readonly doc: string;
  /** True for `[git_auth.<name>]`: a table of named tables, no env overrides. */
  readonly named?: boolean;
  readonly keys: readonly KeySpec[];
}

const U32 = 4294967295;

const str = (key: string, def: string, doc: string, extra: Partial<KeySpec> = {}): KeySpec =>
  ({ key, type: "string", default: def, doc, ...extra });
const bool = (key: string, def: boolean, doc: string, extra: Partial<KeySpec> = {}): KeySpec =>
  ({ key, type: "bool", default: def, doc, ...extra });
const int = (key: string, def: number, min: number, doc: string, extra: Partial<KeySpec> = {}): KeySpec =>
  ({ key, type: "int", default: def, min, max: U32, doc, ...extra });
const secret = (key: string, doc: string, extra: Partial<KeySpec> = {}): KeySpec =>
  ({ key, type: "secret", default: "", doc, ...extra });
const file = (key: string, doc: string): KeySpec =>
  ({ key, type: "string", default: "", doc, readableFile: true });
const list = (key: string, doc: string, extra: Partial<KeySpec> = {}): KeySpec =>
  ({ key, type: "list", default: [], doc, ...extra });
const map = (key: string, doc: string, check: KeySpec["check"]): KeySpec =>
  ({ key, type: "map", default: {}, doc, check });

/** The fields of one `[[kubernetes.tolerations]]` table, as Kubernetes names them in snake case. */
const tolerationFields: readonly KeySpec[] = [
  str("key", "", "Taint key; empty (with `operator = \"Exists\"`) matches every taint."),
  str("operator", "Equal", "`Equal` or `Exists`.", { oneOf: ["Equal", "Exists"] }),
  str("value", "", "Taint value, for `Equal`."),
  str("effect", "", "`NoSchedule`, `PreferNoSchedule`, `NoExecute` or empty (every effect).", { oneOf: ["NoSchedule", "PreferNoSchedule", "NoExecute", ""] }),
  { ...int("toleration_seconds", 0, 0, "How long a `NoExecute` taint is tolerated; unset means forever."), max: Number.MAX_SAFE_INTEGER },
];

/** Every section, in the order the docs list them. */
export const configSchema: readonly SectionSpec[] = [
  {
    name: "builder",
    doc: "How images are built.",
    keys: [
      str("mode", "auto", "`auto` (kaniko inside Kubernetes, else command), `command` (local Docker/Podman), `kaniko` (Kubernetes Job) or `delegate:<url>[,<url>…]` (builder nodes)."),
      str("kaniko_image", "ghcr.io/kaniko-build/dist/chainguard-dev-kaniko/executor:v1.25.3-slim", "Image of the Kaniko executor used in `kaniko` mode."),
      bool("kaniko_cache", true, "Pass `--cache=true` and a cache repository to Kaniko."),
      str("kaniko_cache_repo", "", "Kaniko cache repository; empty means `<registry.url>[/<registry.project>]/kaniko-cache`."),
      int("build_timeout_secs", 1800, 1, "A build running longer than this is cancelled and fails."),
      int("shutdown_grace_secs", 0, 0, "On SIGTERM, how long running builds may finish (new ones are refused with `unavailable` and health turns NOT_SERVING at once); builds still running then are canceled and recorded so. 0 means `build_timeout_secs`. `buildplane serve --shutdown-grace` overrides it.", { defaultDoc: "build_timeout_secs" }),
      int("max_queue", 100, 0, "Builds that may wait for a slot in this process; past it a build is refused at once with `resource_exhausted` and a `retry-after` hint, never left hanging."),
      { ...int("lease_ttl_secs", 30, 3, "Lifetime of a build's lease in metadata (one build per image across processes and replicas); its holder renews it every third of it and stops the build (`aborted`) when it could not renew before expiry, so no two holders build the same image."), max: 3600 },
      { ...int("max_upload_bytes", 2147483648, 1, "Largest build context accepted, in bytes (uncompressed)."), max: Number.MAX_SAFE_INTEGER },
      int("upload_timeout_secs", 600, 1, "Longest time a client may take to upload a folder's context (`build <folder> --server`); past it the upload fails with `deadline_exceeded`."),
      file("node_ca_file", "PEM CA bundle trusted for `delegate:https://…` builder nodes, in addition to the system roots."),
      file("node_client_cert_file", "PEM client certificate presented to builder nodes (gRPC and `openrun+https://`) that require mTLS; needs `node_client_key_file`."),
      file("node_client_key_file", "PEM client key for builder nodes; needs `node_client_cert_file`."),
      list("allowed_registries", "On a builder node: the only registry hosts (`host[:port]`, compared exactly) it pushes to; a build to another host is refused with `permission_denied`; empty accepts any host a caller with the `node` scope names. Whatever the list, a node builds only `<registry-host>/<repository>:<tag>` references and never tags a name without a registry host."),
      bool("require_tls_to_nodes", false, "Refuse at load `delegate:http://…` and `openrun+http://…` builder nodes that are not on this machine (loopback); otherwise a warning at start names each such node and `GetStatus` marks it `plaintext`."),
    ],
  },
  {
    name: "registry",
    doc: "The registry images are pushed to and looked up in; empty `url` means images stay in the local engine.",
    keys: [
      str("url", "", "Registry location `host[:port][/path]`, without a scheme; required for `kaniko` and `delegate` modes."),
      str("project", "", "Extra path segment: images are named `url/project/name`."),
      str("type", "", "`\"\"` (basic or anonymous auth) or `\"ecr\"` (AWS ECR token auth)."),
      str("username", "", "Basic-auth user name."),
      secret("password", "Basic-auth password; set this or `password_file`, not both."),
      file("password_file", "File holding the basic-auth password (surrounding whitespace trimmed)."),
      file("ca_file", "PEM bundle trusted in addition to the system roots."),
      file("client_cert_file", "PEM client certificate for mTLS; needs `client_key_file`."),
      file("client_key_file", "PEM client key for mTLS; needs `client_cert_file`."),
      bool("insecure", false, "Allow plain HTTP and skip TLS verification."),
      str("aws_region", "", "ECR region when the host does not name one (then `us-east-1`)."),
      int("push_check_ttl_secs", 60, 0, "How long a successful push check of a destination (TLS, credentials, push rights, made before each build) is trusted; 0 checks before every build."),
      int("exists_cache_ttl_secs", 600, 0, "How long an image found to exist (in the registry, or in the local engine without one) is trusted before it is looked up again. Deletions by `buildplane gc` are heard at once; this bounds how long an image deleted outside buildplane is still answered as existing. 0 looks it up on every request."),
    ],
  },
  {
    name: "system",
    doc: "The local machine: data, container engine, limits.",
    keys: [
      str("data_dir", "~/.buildplane", "Folder for the SQLite database, caches and `buildplane.toml`.", { path: true }),
      str("container_command", "auto", "`auto` (podman, else docker, found on PATH), `docker`, `podman` or an absolute path."),
      secret("builder_auth_token", "The node credential, shared by a main install and its builder nodes (scope `node`: builder Build, CancelBuild, HasImage, GetStatus); required for `delegate` mode."),
      int("max_concurrent_builds", 1, 1, "Builds run at the same time by this process; more wait in a queue."),
      int("max_build_wait_secs", 120, 0, "Longest wait in the build queue before the build fails."),
      bool("use_image_pre_build_step", true, "Build images before an app update is committed."),
      str("container_builder", "", "Accepted for compatibility with OpenRun files; not used.", { unused: true }),
      int("git_checkout_cache_entries", 0, 0, "Git mirrors kept in the shared checkout cache (least recently used ones beyond it are removed when idle); 0 keeps the default bound of 32."),
      int("git_remote_check_interval_secs", 0, 0, "How long a resolved branch head is reused; 0 resolves every time."),
      int("git_operation_timeout_secs", 600, 1, "Timeout of each remote git operation (list, clone, fetch)."),
      int("max_log_lines_per_build", 100000, 1, "Most log lines stored for one build."),
    ],
  },
  {
    name: "security",
    doc: "Access to the server.",
    keys: [
      bool("admin_over_tcp", false, "Serve the admin API over TCP (set on builder nodes)."),
      bool("unsafe_admin_over_tcp", false, "Same as `admin_over_tcp` (OpenRun's newer name); either one true enables it.", { aliasOf: "admin_over_tcp" }),
      str("default_git_auth", "", "Name of the `[git_auth.<name>]` entry used when a source names none."),
      bool("allow_unauthenticated", false, "Serve every RPC without credentials on a non-loopback address. Without it, `serve` refuses to start off loopback unless a credential is configured."),
      secret("read_token", "Bearer token with the `read` scope: build records, logs, apps, status and the redacted config."),
      secret("build_token", "Bearer token with the `build` and `read` scopes: what `buildplane build --server` needs."),
      secret("admin_token", "Bearer token with the `admin`, `build` and `read` scopes: also apps writes and config validation."),
      { key: "allowed_container_args", type: "map", default: { "add-host": "regex:.*" }, doc: "Accepted for compatibility with OpenRun files; run-time only, not used by builds.", unused: true },
    ],
  },
  {
    name: "source",
    doc: "What the source service may read.",
    keys: [
      list("local_roots", "Server folders that network callers may name as a repository (a path or `file://` URL under one of them, compared by real path: a symlink, `..` or `.git` link leading out is refused); empty refuses every local path from the network. Callers in this process (the CLI without `--server`) are not limited."),
    ],
  },
  {
    name: "http",
    doc: "The RPC port (gRPC, gRPC-Web and Connect on one port).",
    keys: [
      str("host", "127.0.0.1", "Interface to listen on; `0.0.0.0` on a builder node."),
      { ...int("port", 25222, 0, "Port to listen on; 0 picks a free port."), max: 65535 },
      bool("redirect_to_https", false, "Accepted for compatibility; must stay false on builder nodes."),
      { ...int("max_message_bytes", 8388608, 1024, "Largest RPC message accepted, in bytes, after decompression; a larger one is refused with `resource_exhausted`. Build contexts travel in messages of up to 1 MiB, so a server taking contexts needs at least 1048576."), max: 1073741824 },
      int("headers_timeout_secs", 30, 1, "Time a client has to send a request's headers (and a new connection its first bytes)."),
      int("stream_keepalive_secs", 20, 0, "A build event or log stream that has sent nothing for this long sends an empty keep-alive message (clients skip it), so a service mesh's or load balancer's idle timeout never cuts a build through a quiet step; set it below the shortest idle timeout on the way. 0 sends none."),
      int("idle_timeout_secs", 600, 1, "A connection with no request in flight and nothing moving for this long is closed (an idle HTTP/1.1 keep-alive connection after at most 5 s); a request in flight, such as a slow upload or a build stream quiet through a long step, is never cut."),
    ],
  },
  {
    name: "https",
    doc: "TLS for the RPC port; when `cert_file` and `key_file` are set the port speaks TLS only.",
    keys: [
      file("cert_file", "PEM server certificate; needs `key_file`."),
      file("key_file", "PEM server key; needs `cert_file`."),
      file("client_ca_file", "PEM CA bundle: when set, clients must present a certificate it signed (mTLS)."),
      map("client_scopes", "Scopes of each client certificate, by subject CN or subjectAltName (`DNS:…`, `URI:…` or the bare name): `{ \"ci.example\" = \"build,read\" }`; `*` matches every certificate the CA signed.", checkScopeMap),
      { ...int("port", 25223, 0, "Accepted for compatibility with OpenRun files; TLS is served on `http.port`.", { unused: true }), max: 65535 },
    ],
  },
  {
    name: "metadata",
    doc: "Where apps, builds and logs are stored.",
    keys: [
      secret("db_connection", "`sqlite:<path>` or `postgres://user:password@host:port/db`.", { defaultDoc: "sqlite:<data_dir>/buildplane.db" }),
      int("pool_size", 10, 1, "Connections in the Postgres pool."),
      { ...int("statement_timeout_secs", 30, 1, "Postgres: longest time one statement (`statement_timeout`), one query round trip (`query_timeout`) and an idle transaction (`idle_in_transaction_session_timeout`) may take; a hung database then fails calls as `unavailable` instead of hanging them."), max: 3600 },
      { ...int("outage_budget_secs", 20, 1, "How long a build rides out a metadata database that is away: record writes are retried with backoff (100 ms up to 2 s) and log lines buffered (up to 10,000) meanwhile; a longer outage fails the build with `unavailable`, and the outcome is written once the database is back (a one-shot `buildplane build` without `--server` waits for that at most 5 s after its answer, then exits)."), max: 3600 },
    ],
  },
  {
    name: "kubernetes",
    doc: "Where `kaniko` mode runs its Jobs.",
    keys: [
      str("namespace", "buildplane", "Namespace for Kaniko Jobs and their Secrets."),
      {
        ...file("kubeconfig", "Kubeconfig file; empty means the in-cluster service account. Default: the first path of `KUBECONFIG`, else `~/.kube/config` outside Kubernetes when it exists, else empty."),
        defaultDoc: "$KUBECONFIG",
      },
      int("job_ttl_secs", 600, 1, "`ttlSecondsAfterFinished` of each Kaniko Job: a backstop behind buildplane's own clean-up."),
      str("service_account", "", "Service account of the Kaniko pods; empty keeps the namespace's `default`."),
      map("resources_requests", "Resource requests of the Kaniko container, e.g. `{ cpu = \"1\", memory = \"2Gi\" }`.", checkResources),
      map("resources_limits", "Resource limits of the Kaniko container; each request must not exceed its limit.", checkResources),
      map("node_selector", "Node labels the Kaniko pods must run on, e.g. `{ \"kubernetes.io/arch\" = \"amd64\" }`.", checkNodeSelector),
      map("pod_labels", "Labels added to each Kaniko pod, e.g. `{ team = \"web\" }`; keys under `buildplane.dev/` and `app.kubernetes.io/managed-by` are buildplane's own and refused. A service mesh's opt-out label goes here, e.g. `{ \"sidecar.istio.io/inject\" = \"false\" }`.", checkPodLabels),
      map("pod_annotations", "Annotations added to each Kaniko pod. In a service mesh keep the sidecar out of build pods, or it keeps the Job's pod running after Kaniko ends: `{ \"sidecar.istio.io/inject\" = \"false\" }` (Istio), `{ \"linkerd.io/inject\" = \"disabled\" }` (Linkerd).", checkPodAnnotations),
      {
        key: "tolerations",
        type: "tables",
        default: [],
        doc: "Tolerations of the Kaniko pods, `[[kubernetes.tolerations]]` tables with `key`, `operator` (`Equal` or `Exists`), `value`, `effect` (`NoSchedule`, `PreferNoSchedule`, `NoExecute` or empty) and `toleration_seconds` (with `NoExecute` only).",
        items: tolerationFields,
        check: checkTolerations,
      },
      int("pod_start_timeout_secs", 180, 1, "Longest wait for a Kaniko pod to be scheduled and pull its image; past it the build fails with `unavailable`, naming the pod and the reason."),
      int("upload_timeout_secs", 300, 1, "Longest time to send the build context to the Kaniko pod's stdin."),
    ],
  },
  {
    name: "services",
    doc: "Where each service runs when the services are split; empty means in this process.",
    keys: [
      str("config_url", "", "URL of the config service, `http(s)://host:port`."),
      str("metadata_url", "", "URL of the metadata service."),
      str("source_url", "", "URL of the source service."),
      str("resolver_url", "", "URL of the resolver service."),
      str("builder_url", "", "URL of the builder service."),
      str("lifecycle_url", "", "URL of the lifecycle service (registry check)."),
      secret("token", "Bearer token split services present to each other; a server grants it the `internal`, `node` and `read` scopes. Without it they present `[system] builder_auth_token` (scope `node`)."),
    ],
  },
  {
    name: "hooks",
    doc: "`POST /hooks/git` on the serve port: push events from GitHub, GitLab, Gitea/Forgejo and Bitbucket that build registered apps at once.",
    keys: [
      secret("secret", "Shared secret of the webhooks: GitHub's, Gitea's and Bitbucket's HMAC-SHA256 signature key, GitLab's `X-Gitlab-Token`. Without it the route answers 404 and builds nothing."),
      { ...int("max_body_bytes", 5242880, 1024, "Largest webhook body read, in bytes; a larger one is refused with 413 before its signature is checked."), max: 104857600 },
      { ...int("body_timeout_secs", 10, 1, "Time a webhook sender has to send the whole body; a slower one is answered 408."), max: 600 },
    ],
  },
  {
    name: "gc",
    doc: "Garbage collection of the images buildplane built (`buildplane gc` and the scheduled collector).",
    keys: [
      { ...int("keep", 5, 1, "Newest succeeded images kept per app; images whose build runs or whose lease is held, and pinned ones, are kept besides."), max: 10000 },
      int("older_than_secs", 0, 0, "Only images older than this many seconds are deleted; 0 deletes any beyond `keep`."),
      int("interval_secs", 0, 0, "Seconds between scheduled collections on the server running the lifecycle service; 0 never collects on its own."),
    ],
  },
  {
    name: "log",
    doc: "What the server writes to stderr: one JSON object per line (pino), with `trace_id` while a trace is active and every known secret replaced by `***`.",
    keys: [
      str("level", "info", "Lowest level written: `trace`, `debug` (also in-process RPCs), `info` (access lines, build start and finish), `warn`, `error` or `silent`.", { oneOf: ["trace", "debug", "info", "warn", "error", "silent"] }),
    ],
  },
  {
    name: "git_auth",
    named: true,
    doc: "Named git credentials, `[git_auth.<name>]`; not settable from the environment.",
    keys: [
      str("user_id", "", "User name: the SSH user (empty means `git`) or the HTTP basic-auth user."),
      secret("password", "SSH key passphrase, or the HTTP password or token when no key is given."),
      file("key_file_path", "SSH private key file."),
      secret("private_key", "SSH private key as text."),
      list("hosts", "Hosts (`host` or `host:port`) this entry's credential is sent to, and only those; a bare `host` means the transport's default port (443, 80, 9418, 22). Required: an entry without hosts is refused at load."),
      bool("allow_plaintext", false, "Also send this credential over plain `http://` and `git://`, where anyone on the path can read it."),
    ],
  },
];

/** The section named `name`, if any. */
export function sectionSpec(name: string): SectionSpec | undefined {
  return configSchema.find((s) => s.name === name);
}

/** The environment variable that overrides `section.key`. */
export function envName(section: string, key: string): string {
  return `BUILDPLANE_${section}_${key}`.toUpperCase();
}
