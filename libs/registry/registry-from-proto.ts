import type { Registry } from "../gen/buildplane/v1/common_pb.js";
import { Secret } from "../secret/secret.js";
import type { RegistryClientOptions } from "./registry-options.js";

/** Client options from a proto `Registry` (credentials as values, as the config service hands them out). */
export function registryOptionsFromProto(r: Registry): RegistryClientOptions {
  return {
    url: r.url,
    insecure: r.insecure,
    type: r.type === "ecr" ? "ecr" : "",
    username: r.username,
    password: r.password === "" ? undefined : new Secret(r.password),
    caPem: r.caPem,
    clientCertPem: r.clientCertPem,
    clientKeyPem: r.clientKeyPem === "" ? undefined : new Secret(r.clientKeyPem),
    awsRegion: r.awsRegion,
  };
}
