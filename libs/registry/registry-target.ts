import { create } from "@bufbuild/protobuf";
import { RegistrySchema, type Registry } from "../gen/buildplane/v1/common_pb.js";
import { secretOrUndefined } from "../secret/secret.js";
import type { RegistryClientOptions } from "./registry-options.js";

/**
 * A registry destination with every credential as a value, and the project
 * references are qualified with: what the config service hands out, the
 * resolver orders a build to push to, and a mode pushes with.
 */
export interface RegistryTarget extends RegistryClientOptions {
  readonly project: string;
}

/**
 * The wire form of a destination: every credential travels as a value, so
 * a builder (or a node) never reads a file or uses an identity of its own
 * for it.
 */
export function registryTargetToWire(target: RegistryTarget): Registry {
  return create(RegistrySchema, {
    url: target.url,
    project: target.project,
    type: target.type,
    insecure: target.insecure,
    username: target.username,
    password: target.password?.unwrap() ?? "",
    caPem: target.caPem,
    clientCertPem: target.clientCertPem,
    clientKeyPem: target.clientKeyPem?.unwrap() ?? "",
    awsRegion: target.awsRegion,
  });
}

/** A destination from the wire, its password and client key wrapped. */
export function registryTargetFromWire(r: Registry): RegistryTarget {
  return {
    url: r.url,
    project: r.project,
    type: r.type === "ecr" ? "ecr" : "",
    insecure: r.insecure,
    username: r.username,
    password: secretOrUndefined(r.password),
    caPem: r.caPem,
    clientCertPem: r.clientCertPem,
    clientKeyPem: secretOrUndefined(r.clientKeyPem),
    awsRegion: r.awsRegion,
  };
}
