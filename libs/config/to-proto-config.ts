import { create } from "@bufbuild/protobuf";
import { ConfigSchema, DiagnosticSchema, type Config, type Diagnostic } from "../gen/buildplane/v1/config_pb.js";
import { redacted, type Secret } from "../secret/secret.js";
import type { ConfigDiagnostic, ResolvedConfig } from "./config-types.js";
import { redactDbConnection } from "./redact.js";

const hide = (s: Secret | undefined): string => (s === undefined || s.isEmpty ? "" : redacted);

/**
 * The `Config` message for a resolved configuration, with every secret set
 * shown as `***` and a postgres URL's password as `***`: what `GetConfig`
 * and `WatchConfig` send, so no secret leaves the config service this way.
 */
export function toProtoConfig(c: ResolvedConfig): Config {
  return create(ConfigSchema, {
    builder: {
      mode: c.builder.modeText,
      kanikoImage: c.builder.kanikoImage,
      kanikoCache: c.builder.kanikoCache,
      kanikoCacheRepo: c.builder.kanikoCacheRepo,
      buildTimeoutSecs: c.builder.buildTimeoutSecs,
      maxUploadBytes: BigInt(c.builder.maxUploadBytes),
      nodeCaFile: c.builder.nodeCaFile,
      nodeClientCertFile: c.builder.nodeClientCertFile,
      nodeClientKeyFile: c.builder.nodeClientKeyFile,
    },
    registry: {
      url: c.registry.url,
      project: c.registry.project,
      type: c.registry.type,
      username: c.registry.username,
      password: hide(c.registry.password),
      passwordFile: c.registry.passwordFile,
      caFile: c.registry.caFile,
      clientCertFile: c.registry.clientCertFile,
      clientKeyFile: c.registry.clientKeyFile,
      insecure: c.registry.insecure,
      awsRegion: c.registry.awsRegion,
    },
    system: {
      dataDir: c.system.dataDir,
      containerCommand: c.system.containerCommand,
      builderAuthToken: hide(c.system.builderAuthToken),
      maxConcurrentBuilds: c.system.maxConcurrentBuilds,
      maxBuildWaitSecs: c.system.maxBuildWaitSecs,
      useImagePreBuildStep: c.system.useImagePreBuildStep,
      gitCheckoutCacheEntries: c.system.gitCheckoutCacheEntries,
      gitRemoteCheckIntervalSecs: c.system.gitRemoteCheckIntervalSecs,
      gitOperationTimeoutSecs: c.system.gitOperationTimeoutSecs,
      maxLogLinesPerBuild: c.system.maxLogLinesPerBuild,
    },
    security: { adminOverTcp: c.security.adminOverTcp, defaultGitAuth: c.security.defaultGitAuth },
    http: { host: c.http.host, port: c.http.port, redirectToHttps: c.http.redirectToHttps },
    https: { certFile: c.https.certFile, keyFile: c.https.keyFile, clientCaFile: c.https.clientCaFile },
    metadata: { dbConnection: redactDbConnection(c.metadata.dbConnection.unwrap()), poolSize: c.metadata.poolSize },
    kubernetes: {
      namespace: c.kubernetes.namespace,
      kubeconfig: c.kubernetes.kubeconfig,
      jobTtlSecs: c.kubernetes.jobTtlSecs,
      serviceAccount: c.kubernetes.serviceAccount,
      resourcesRequests: { ...c.kubernetes.resourcesRequests },
      resourcesLimits: { ...c.kubernetes.resourcesLimits },
      nodeSelector: { ...c.kubernetes.nodeSelector },
      tolerations: c.kubernetes.tolerations.map((t) => ({
        key: t.key,
        operator: t.operator,
        value: t.value,
        effect: t.effect,
        ...(t.tolerationSeconds === undefined ? {} : { tolerationSeconds: BigInt(t.tolerationSeconds) }),
      })),
      podStartTimeoutSecs: c.kubernetes.podStartTimeoutSecs,
      uploadTimeoutSecs: c.kubernetes.uploadTimeoutSecs,
    },
    services: {
      configUrl: c.services.configUrl,
      metadataUrl: c.services.metadataUrl,
      sourceUrl: c.services.sourceUrl,
      resolverUrl: c.services.resolverUrl,
      builderUrl: c.services.builderUrl,
      lifecycleUrl: c.services.lifecycleUrl,
    },
    gitAuth: Object.fromEntries(
      Object.entries(c.gitAuth).map(([name, g]) => [
        name,
        { userId: g.userId, password: hide(g.password), keyFilePath: g.keyFilePath, privateKey: hide(g.privateKey) },
      ]),
    ),
    sourceFile: c.sourceFile ?? "",
    hooks: { secret: hide(c.hooks.secret), maxBodyBytes: BigInt(c.hooks.maxBodyBytes), bodyTimeoutSecs: c.hooks.bodyTimeoutSecs },
    gc: { keep: c.gc.keep, olderThanSecs: BigInt(c.gc.olderThanSecs), intervalSecs: c.gc.intervalSecs },
  });
}

/** The `Diagnostic` messages for our diagnostics. */
export function toProtoDiagnostics(list: readonly ConfigDiagnostic[]): Diagnostic[] {
  return list.map((d) => create(DiagnosticSchema, { ...d }));
}
