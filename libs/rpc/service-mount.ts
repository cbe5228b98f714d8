import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor, ServiceImpl } from "@connectrpc/connect";
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
}

/** Pairs a generated service with its implementation. */
export function mountService<T extends DescService>(service: T, impl: ServiceImpl<T>): MountedService {
  return { service, register: (router) => void router.service(service, impl) };
}
