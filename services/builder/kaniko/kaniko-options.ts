/**
 * Settings of the kaniko mode, compiled once from `[builder]` and
 * `[kubernetes]` (see the keys named on each field). Taken as one typed
 * object so the planner stays pure and the config library stays the only
 * reader of the TOML file.
 */
export interface KanikoOptions {
  /** `[kubernetes] namespace`: where Jobs and Secrets are created. */
  readonly namespace: string;
  /** `[builder] kaniko_image`: the executor image. */
  readonly kanikoImage: string;
  /** `[builder] kaniko_cache`: adds `--cache=true --cache-repo=…`. */
  readonly cache: boolean;
  /** `[builder] kaniko_cache_repo`; "" means `url[/project]/kaniko-cache`. */
  readonly cacheRepo: string;
  /** `[kubernetes] job_ttl_secs` (default 600): `ttlSecondsAfterFinished`, a backstop behind our own clean-up. */
  readonly ttlSecondsAfterFinished: number;
  /** `[kubernetes] service_account`; "" keeps the namespace default. */
  readonly serviceAccount: string;
  /** `[kubernetes] resources_requests` / `resources_limits`, e.g. `{ cpu: "1", memory: "2Gi" }`. */
  readonly resources: KanikoResources;
  /** `[kubernetes] node_selector`. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** `[kubernetes] pod_labels`: added to the pod's labels; buildplane's own win. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** `[kubernetes] pod_annotations`, e.g. a mesh's sidecar opt-out. */
  readonly podAnnotations: Readonly<Record<string, string>>;
  /** `[kubernetes] tolerations`: a list of Kubernetes toleration tables. */
  readonly tolerations: readonly KanikoToleration[];
  /** `[kubernetes] pod_start_timeout_secs` (default 180): bounded wait for scheduling and the image pull. */
  readonly podStartTimeoutSecs: number;
  /** `[kubernetes] upload_timeout_secs` (default 300): bound on sending the context over stdin. */
  readonly uploadTimeoutSecs: number;
  /**
   * Identifies the install (its metadata database) on every object, so the
   * sweeper only ever removes leftovers of builds it can look up; "" leaves
   * the label off.
   */
  readonly installId: string;
}

export interface KanikoResources {
  readonly requests: Readonly<Record<string, string>>;
  readonly limits: Readonly<Record<string, string>>;
}

export interface KanikoToleration {
  readonly key?: string;
  readonly operator?: "Exists" | "Equal";
  readonly value?: string;
  readonly effect?: "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  readonly tolerationSeconds?: number;
}

/** Defaults for every key, so only what differs needs saying. */
export const defaultKanikoOptions: KanikoOptions = Object.freeze({
  namespace: "default",
  kanikoImage: "gcr.io/kaniko-project/executor:v1.23.2",
  cache: false,
  cacheRepo: "",
  ttlSecondsAfterFinished: 600,
  serviceAccount: "",
  resources: { requests: {}, limits: {} },
  nodeSelector: {},
  podLabels: {},
  podAnnotations: {},
  tolerations: [],
  podStartTimeoutSecs: 180,
  uploadTimeoutSecs: 300,
  installId: "",
});

/** Defaults overlaid with `partial`, frozen. */
export function resolveKanikoOptions(partial: Partial<KanikoOptions>): KanikoOptions {
  return Object.freeze({ ...defaultKanikoOptions, ...partial });
}
