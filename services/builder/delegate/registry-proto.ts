import { create } from "@bufbuild/protobuf";
import { RegistrySchema, type Registry } from "../../../libs/gen/buildplane/v1/common_pb.js";
import type { PushTarget } from "../image-builder.js";

/**
 * The wire form of a push destination: every credential travels as a value,
 * so the node never reads a file or uses an identity of its own for it.
 */
export function pushTargetToProto(target: PushTarget): Registry {
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
