import { readFileSync } from "node:fs";
import type { ResolvedConfig } from "../../../libs/config/config-types.js";
import { isPlaintextNodeUrl } from "../../../libs/config/plaintext-nodes.js";
import { createEcrPushTargetResolver } from "../../../libs/registry/ecr-push-target.js";
import type { RpcLogger } from "../../../libs/rpc/logger.js";
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
    warnPlaintextNodes(mode.urls, deps.log);
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

/**
 * Names, at start, each builder node reached over plain HTTP across the
 * network: the token, registry credentials and build args go in clear
 * (fine inside a mesh whose sidecars encrypt, never silent).
 * `[builder] require_tls_to_nodes = true` refuses such a config at load.
 */
function warnPlaintextNodes(urls: readonly string[], log: RpcLogger): void {
  for (const url of urls.filter(isPlaintextNodeUrl)) {
    log.info(
      `warning: builder node ${url} is reached over plain HTTP: the builder token, registry credentials and build args cross the network in clear; use https:// or set [builder] require_tls_to_nodes = true to refuse this`,
      { node: url, plaintext: true },
    );
  }
}

/** TLS towards builder nodes: `[builder] node_ca_file`, `node_client_cert_file`, `node_client_key_file`. */
function nodeTls(config: ResolvedConfig): NodeTlsOptions | undefined {
  const { nodeCaFile, nodeClientCertFile, nodeClientKeyFile } = config.builder;
  if (nodeCaFile === "" && nodeClientCertFile === "") return undefined;
  return {
    ...(nodeCaFile ? { caPem: readFileSync(nodeCaFile, "utf8") } : {}),
    ...(nodeClientCertFile ? { certPem: readFileSync(nodeClientCertFile, "utf8"), keyPem: new Secret(readFileSync(nodeClientKeyFile, "utf8")) } : {}),
  };
}
