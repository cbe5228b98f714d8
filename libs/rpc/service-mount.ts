import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ContextValues, Interceptor, ServiceImpl } from "@connectrpc/connect";
import type { DualHandler } from "./listeners.js";

/**
 * A service implementation ready to be mounted on a router, with its
 * generated type erased so services of different types share one list.
 */
export interface MountedService {
  readonly service: DescService;
  register(router: ConnectRouter): void;
  /** Interceptors for calls arriving over the network only (in-process calls skip them). */
  readonly networkInterceptors?: readonly Interceptor[];
  /** Plain HTTP routes served on the same port before the RPC adapter (OpenRun's delegate path). */
  readonly httpRoute?: (next: DualHandler) => DualHandler;
  /**
   * Request paths that start builds (`/buildplane.v1.ResolverService/EnsureImage`):
   * refused with `unavailable` once shutdown began, and awaited up to the shutdown grace.
   */
  readonly buildPaths?: readonly string[];
  /** Stops this service's running builds with `reason` (the shutdown grace ended). */
  readonly cancelBuilds?: (reason: Error) => void;
  /**
   * Filters of the raw request bodies of some of its methods over the
   * network, by request path, applied before the protocol reads them
   * (the builder's context receive, `grpc-context-receive.ts`).
   */
  readonly requestBodyFilters?: Readonly<Record<string, RequestBodyFilter>>;
}

/** What a request body filter knows of its request. */
export interface FilteredRequest {
  readonly header: Headers;
  /** The call's context values, which the filter may add to for the service's interceptors. */
  readonly contextValues: ContextValues;
  /** The server's largest message (`[http] max_message_bytes`). */
  readonly readMaxBytes: number;
}

/** Turns a request's body, as it came off the connection, into the body the protocol reads. */
export type RequestBodyFilter = (body: AsyncIterable<Uint8Array>, request: FilteredRequest) => AsyncIterable<Uint8Array>;

/** Pairs a generated service with its implementation. */
export function mountService<T extends DescService>(service: T, impl: ServiceImpl<T>): MountedService {
  return { service, register: (router) => void router.service(service, impl) };
}
