import type { ConnectRouter } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { DescriptorIndex } from "./descriptor-index.js";

/** The request fields reflection reads; identical in v1 and v1alpha. */
interface ReflectionQuery {
  readonly messageRequest: { readonly case: string | undefined; readonly value?: unknown };
}

/** A response without `valid_host`/`original_request`; identical in v1 and v1alpha. */
type ReflectionAnswer =
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * Mounts gRPC server reflection, v1 and v1alpha (grpcurl and older clients
 * still ask for v1alpha), so `buf curl` and grpcurl can call any mounted
 * service without local proto files.
 */
export function registerReflection(router: ConnectRouter, index: DescriptorIndex): void {
  router.service(ReflectionV1, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield { validHost: req.host, originalRequest: req, messageResponse: answer(index, req) };
    },
  });
  router.service(ReflectionV1alpha, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield { validHost: req.host, originalRequest: req, messageResponse: answer(index, req) };
    },
  });
}

/** Answers one reflection request from the index; exported for unit tests. */
export function answer(index: DescriptorIndex, req: ReflectionQuery): ReflectionAnswer {
  const { case: kind, value } = req.messageRequest;
  const name = typeof value === "string" ? value : "";
  switch (kind) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.serviceNames.map((n) => ({ name: n })) } };
    case "fileByFilename": {
      const file = index.fileByName(name);
      if (file === undefined) return notFound(`file "${name}" is not known to this server`);
      return { case: "fileDescriptorResponse", value: { fileDescriptorProto: index.serializeWithDependencies(file) } };
    }
    case "fileContainingSymbol": {
      const file = index.fileContainingSymbol(name);
      if (file === undefined) return notFound(`symbol "${name}" is not known to this server`);
      return { case: "fileDescriptorResponse", value: { fileDescriptorProto: index.serializeWithDependencies(file) } };
    }
    case "allExtensionNumbersOfType":
      if (!index.hasMessage(name)) return notFound(`type "${name}" is not known to this server`);
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: name, extensionNumber: [] } };
    case "fileContainingExtension":
      return notFound("no extensions are known to this server");
    default:
      return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "reflection request has no message_request: expected one of list_services, file_by_filename, file_containing_symbol" } };
  }
}

function notFound(message: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: message } };
}
