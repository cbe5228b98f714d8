import type { Secret } from "../secret/secret.js";

/**
 * The effective configuration: defaults, then the TOML file, then
 * `BUILDPLANE_<SECTION>_<KEY>` environment overrides, validated and frozen.
 * Key names follow OpenRun's TOML (`[builder]`, `[registry]`, `[system]`…),
 * in camel case here. Every field has a default, so an empty file is a
 * working single-node install.
 */
export interface ResolvedConfig {
  readonly builder: BuilderConfig;
  readonly registry: RegistryConfig;
  readonly system: SystemConfig;
  readonly security: SecurityConfig;
  readonly http: HttpConfig;
  readonly https: HttpsConfig;
  readonly metadata: MetadataConfig;
  readonly kubernetes: KubernetesConfig;
  readonly services: ServicesConfig;
  readonly source: SourceConfig;
  readonly log: LogConfig;
  readonly hooks: HooksConfig;
  readonly gc: GcConfig;
  /** `[git_auth.<name>]` entries by name. */
  readonly gitAuth: Readonly<Record<string, GitAuthConfig>>;
  /** The file read, or undefined when only defaults and env apply. */
  readonly sourceFile: string | undefined;
  /** Facts about where this process runs, read from the environment given to `loadConfig`. */
  readonly runtime: RuntimeConfig;
}

/** `[hooks]`: the webhook route `POST /hooks/git`. */
export interface HooksConfig {
  /** Signature key (GitHub, Gitea, Bitbucket) and GitLab's token; undefined leaves the route closed. */
  readonly secret: Secret | undefined;
  readonly maxBodyBytes: number;
  readonly bodyTimeoutSecs: number;
}

/** `[gc]`: retention of the images buildplane built. */
export interface GcConfig {
  readonly keep: number;
  readonly olderThanSecs: number;
  /** 0: no scheduled collection. */
  readonly intervalSecs: number;
}

/** `[log]`: what the server writes to stderr. */
export interface LogConfig {
  readonly level: LogLevel;
}

/** The levels `[log] level` accepts, lowest first. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "silent";

/** Where this process runs. */
export interface RuntimeConfig {
  /** `KUBERNETES_SERVICE_HOST` is set: `auto` builds with kaniko. */
  readonly inKubernetes: boolean;
}

/** A parsed `[builder] mode`. */
export type BuilderMode =
  | { readonly kind: "auto" }
  | { readonly kind: "command" }
  | { readonly kind: "kaniko" }
  | { readonly kind: "delegate"; readonly urls: readonly string[] };

/** The mode builds really use: `auto` decided (kaniko inside Kubernetes, else command). */
export type EffectiveBuilderMode = Exclude<BuilderMode, { readonly kind: "auto" }>;

export interface BuilderConfig {
  /** The text as written, e.g. `delegate:http://b1:25222,http://b2:25222`. */
  readonly modeText: string;
  readonly mode: BuilderMode;
  /** `mode` with `auto` decided by `runtime.inKubernetes`. */
  readonly effectiveMode: EffectiveBuilderMode;
  readonly kanikoImage: string;
  readonly kanikoCache: boolean;
  readonly kanikoCacheRepo: string;
  readonly buildTimeoutSecs: number;
  /** How long running builds may finish after SIGTERM; 0 means `buildTimeoutSecs`. */
  readonly shutdownGraceSecs: number;
  /** Builds that may wait for a slot; more are refused with `resource_exhausted`. */
  readonly maxQueue: number;
  /** Lifetime of a build lease; renewed every third of it. */
  readonly leaseTtlSecs: number;
  readonly maxUploadBytes: number;
  /** Longest time a client may take to upload a context to the resolver. */
  readonly uploadTimeoutSecs: number;
  /** CA trusted for TLS builder nodes ("" = system roots only). */
  readonly nodeCaFile: string;
  /** Client certificate and key presented to builder nodes (mTLS). */
  readonly nodeClientCertFile: string;
  readonly nodeClientKeyFile: string;
  /** Registry hosts a builder node pushes to; empty accepts any. */
  readonly allowedRegistries: readonly string[];
  /** Refuse plain-HTTP builder nodes off loopback. */
  readonly requireTlsToNodes: boolean;
}

export interface RegistryConfig {
  /** host[:port][/path], no scheme; "" means no registry. */
  readonly url: string;
  readonly project: string;
  /** "" or "ecr". */
  readonly type: "" | "ecr";
  readonly username: string;
  readonly password: Secret | undefined;
  readonly passwordFile: string;
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly insecure: boolean;
  readonly awsRegion: string;
  /** How long a successful push check is trusted; 0 checks before every build. */
  readonly pushCheckTtlSecs: number;
  /** How long an image found to exist is trusted before it is looked up again; 0 looks up every time. */
  readonly existsCacheTtlSecs: number;
}

export interface SystemConfig {
  readonly dataDir: string;
  /** "auto", "docker", "podman" or an absolute path. */
  readonly containerCommand: string;
  readonly builderAuthToken: Secret | undefined;
  readonly maxConcurrentBuilds: number;
  readonly maxBuildWaitSecs: number;
  readonly useImagePreBuildStep: boolean;
  readonly gitCheckoutCacheEntries: number;
  readonly gitRemoteCheckIntervalSecs: number;
  readonly gitOperationTimeoutSecs: number;
  readonly maxLogLinesPerBuild: number;
}

export interface SecurityConfig {
  readonly adminOverTcp: boolean;
  readonly defaultGitAuth: string;
  /** Explicit opt-out: serve without credentials off loopback. */
  readonly allowUnauthenticated: boolean;
  /** Bearer tokens by role (scopes `read`; `build`+`read`; `admin`+`build`+`read`). */
  readonly readToken: Secret | undefined;
  readonly buildToken: Secret | undefined;
  readonly adminToken: Secret | undefined;
}

/** What the source service may read for network callers. */
export interface SourceConfig {
  /** Absolute server folders network callers may name; empty refuses every local path. */
  readonly localRoots: readonly string[];
}

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  readonly redirectToHttps: boolean;
  /** Largest RPC message, after decompression. */
  readonly maxMessageBytes: number;
  readonly headersTimeoutSecs: number;
  readonly idleTimeoutSecs: number;
  /** Silence after which a build event or log stream sends an empty keep-alive message; 0 sends none. */
  readonly streamKeepaliveSecs: number;
}

/** TLS for the RPC port; all empty means plain h2c. */
export interface HttpsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** When set, clients must present a certificate signed by this CA. */
  readonly clientCaFile: string;
  /** Client certificate identity (CN, SAN or `*`) → scopes, each list checked against the known scopes. */
  readonly clientScopes: Readonly<Record<string, readonly string[]>>;
}

export interface MetadataConfig {
  /** `sqlite:<path>` or `postgres://…`; secret because it may hold a password. */
  readonly dbConnection: Secret;
  readonly poolSize: number;
  /** Postgres statement, query and idle-in-transaction timeout. */
  readonly statementTimeoutSecs: number;
  /** How long record writes are retried while the database is away. */
  readonly outageBudgetSecs: number;
}

export interface KubernetesConfig {
  readonly namespace: string;
  /** "" means the in-cluster service account; defaults to `KUBECONFIG`. */
  readonly kubeconfig: string;
  /** The Job's `ttlSecondsAfterFinished`. */
  readonly jobTtlSecs: number;
  /** "" keeps the namespace's default service account. */
  readonly serviceAccount: string;
  /** Resource name → quantity, e.g. `{ cpu: "1", memory: "2Gi" }`. */
  readonly resourcesRequests: Readonly<Record<string, string>>;
  readonly resourcesLimits: Readonly<Record<string, string>>;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly KubernetesToleration[];
  /** Added to each kaniko pod's labels; buildplane's own labels win. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Added to each kaniko pod's annotations, e.g. a service mesh's opt-out. */
  readonly podAnnotations: Readonly<Record<string, string>>;
  readonly podStartTimeoutSecs: number;
  readonly uploadTimeoutSecs: number;
}

/** One `[[kubernetes.tolerations]]` table, with Kubernetes' defaults filled in. */
export interface KubernetesToleration {
  /** "" (with `Exists`) matches every taint. */
  readonly key: string;
  readonly operator: "Equal" | "Exists";
  readonly value: string;
  /** "" matches every effect. */
  readonly effect: "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  /** Undefined means the taint is tolerated forever. */
  readonly tolerationSeconds: number | undefined;
}

/** Where each service runs when split; "" means in this process. */
export interface ServicesConfig {
  readonly configUrl: string;
  readonly metadataUrl: string;
  readonly sourceUrl: string;
  readonly resolverUrl: string;
  readonly builderUrl: string;
  readonly lifecycleUrl: string;
  /** Presented by split services to each other; granted `internal`, `node` and `read`. */
  readonly token: Secret | undefined;
}

export interface GitAuthConfig {
  readonly userId: string;
  readonly password: Secret | undefined;
  readonly keyFilePath: string;
  readonly privateKey: Secret | undefined;
  /** Hosts (`host` or `host:port`, lower case) the credential may be sent to. */
  readonly hosts: readonly string[];
  /** Also over plain `http://` and `git://`. */
  readonly allowPlaintext: boolean;
}

/** One problem found while loading a configuration. */
export interface ConfigDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted key, e.g. `builder.mode`. */
  readonly key: string;
  readonly message: string;
}
