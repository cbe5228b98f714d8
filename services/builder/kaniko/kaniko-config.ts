import { createHash } from "node:crypto";
import { hostname } from "node:os";
import type { KubernetesToleration, ResolvedConfig } from "../../../libs/config/config-types.js";
import { resolveKanikoOptions, type KanikoOptions, type KanikoToleration } from "./kaniko-options.js";

/**
 * The kaniko mode's options from the resolved configuration (`[builder]`
 * and `[kubernetes]`), so the composition root passes one typed, frozen
 * object and the planner never reads the configuration itself.
 */
export function kanikoOptionsFromConfig(config: ResolvedConfig): KanikoOptions {
  const k = config.kubernetes;
  return resolveKanikoOptions({
    namespace: k.namespace,
    kanikoImage: config.builder.kanikoImage,
    cache: config.builder.kanikoCache,
    cacheRepo: config.builder.kanikoCacheRepo,
    ttlSecondsAfterFinished: k.jobTtlSecs,
    serviceAccount: k.serviceAccount,
    resources: Object.freeze({ requests: Object.freeze({ ...k.resourcesRequests }), limits: Object.freeze({ ...k.resourcesLimits }) }),
    nodeSelector: Object.freeze({ ...k.nodeSelector }),
    podLabels: Object.freeze({ ...k.podLabels }),
    podAnnotations: Object.freeze({ ...k.podAnnotations }),
    tolerations: Object.freeze(k.tolerations.map(toKanikoToleration)),
    podStartTimeoutSecs: k.podStartTimeoutSecs,
    uploadTimeoutSecs: k.uploadTimeoutSecs,
    installId: installIdOf(config.metadata.dbConnection.unwrap()),
  });
}

/**
 * A stable id of the install, from the metadata database it records builds
 * in: installs sharing a Postgres database share an id (they see each
 * other's build records), a SQLite file is its own install on its own host.
 * The password never enters the hash input.
 */
export function installIdOf(dbConnection: string, host: string = hostname()): string {
  let identity = dbConnection;
  if (dbConnection.startsWith("sqlite:")) identity = `${host}:${dbConnection}`;
  else {
    try {
      const url = new URL(dbConnection);
      url.password = "";
      identity = url.toString();
    } catch {
      identity = dbConnection;
    }
  }
  return createHash("sha256").update(identity).digest("hex").slice(0, 16);
}

/** A toleration as the pod spec wants it: empty key and value and unset seconds left out. */
function toKanikoToleration(t: KubernetesToleration): KanikoToleration {
  return Object.freeze({
    ...(t.key === "" ? {} : { key: t.key }),
    operator: t.operator,
    ...(t.value === "" ? {} : { value: t.value }),
    ...(t.effect === "" ? {} : { effect: t.effect }),
    ...(t.tolerationSeconds === undefined ? {} : { tolerationSeconds: t.tolerationSeconds }),
  });
}
