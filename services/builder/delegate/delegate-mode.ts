import { readFileSync } from "node:fs";
import type { ResolvedConfig } from "../../../libs/config/config-types.js";
import { createEcrPushTargetResolver } from "../../../libs/registry/ecr-push-target.js";
import { Secret } from "../../../libs/secret/secret.js";
import type { BuilderModeModule } from "../builder-mode.js";
import { registryDigestCheck } from "../push-verification.js";
import { createDelegateBuilder } from "./delegate-builder.js";
import { DelegateSetupError } from "./delegate-errors.js";
import type { NodeTlsOptions } from "./grpc-node.js";

/**
 * The `delegate:<url>[,<url>…]` mode: builds run on builder nodes (gRPC or
 * OpenRun wire format); this install needs no engine, turns ECR
 * destinations into tokens and checks each reported push in the registry.
 * What a node can do is what this mode can do: nodes are buildplane
 * builders in command mode or OpenRun builders, neither of which keeps a
 * secret build arg out of the image history.
 */
export const delegateMode: BuilderModeModule = {
  kind: "delegate",
  capabilities: { secretArgs: false, labels: true, needsRegistry: true, verifiesPush: true, localEngine: false, platforms: true },
  create(deps) {
    const { config } = deps;
    const mode = config.builder.effectiveMode;
    const token = config.system.builderAuthToken;
    if (mode.kind !== "delegate" || token === undefined) {
      throw new DelegateSetupError("builder.mode delegate needs [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)");
    }
    return createDelegateBuilder({
      urls: mode.urls,
      token,
      maxUploadBytes: config.builder.maxUploadBytes,
      tls: nodeTls(config),
      checkDigest: registryDigestCheck(deps.registries),
      resolvePushTarget: createEcrPushTargetResolver(),
    });
  },
};

/** TLS towards builder nodes: `[builder] node_ca_file`, `node_client_cert_file`, `node_client_key_file`. */
function nodeTls(config: ResolvedConfig): NodeTlsOptions | undefined {
  const { nodeCaFile, nodeClientCertFile, nodeClientKeyFile } = config.builder;
  if (nodeCaFile === "" && nodeClientCertFile === "") return undefined;
  return {
    ...(nodeCaFile ? { caPem: readFileSync(nodeCaFile, "utf8") } : {}),
    ...(nodeClientCertFile ? { certPem: readFileSync(nodeClientCertFile, "utf8"), keyPem: new Secret(readFileSync(nodeClientKeyFile, "utf8")) } : {}),
  };
}
