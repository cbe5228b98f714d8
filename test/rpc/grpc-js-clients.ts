import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { repoRoot } from "./serve-process.js";

/**
 * Plain `@grpc/grpc-js` clients built from the .proto files with
 * proto-loader: no Connect and no generated code, as a third-party gRPC
 * client would call buildplane.
 */
export type GenericClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

const loadOptions: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [join(repoRoot, "proto")] };

function serviceConstructor(file: string, path: string[]): grpc.ServiceClientConstructor {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(file, loadOptions));
  let node: unknown = pkg;
  for (const part of path) node = (node as Record<string, unknown>)[part];
  return node as grpc.ServiceClientConstructor;
}

/** A grpc-js client of `buildplane.v1.ConfigService` at `host:port` (plaintext). */
export function configClient(address: string, credentials = grpc.credentials.createInsecure()): GenericClient {
  const Ctor = serviceConstructor("buildplane/v1/config.proto", ["buildplane", "v1", "ConfigService"]);
  return new Ctor(address, credentials) as unknown as GenericClient;
}

/** A grpc-js client of `grpc.health.v1.Health` at `host:port` (plaintext). */
export function healthClient(address: string): GenericClient {
  const Ctor = serviceConstructor("grpc/health/v1/health.proto", ["grpc", "health", "v1", "Health"]);
  return new Ctor(address, grpc.credentials.createInsecure()) as unknown as GenericClient;
}

/** Calls a unary method and resolves with the response, or rejects with the `ServiceError`. */
export function unary<T>(client: GenericClient, method: string, request: object, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = client[method];
    if (!fn) {
      reject(new Error(`no method ${method}`));
      return;
    }
    fn.call(client, request, metadata, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

export { grpc };
