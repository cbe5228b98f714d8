import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";

/**
 * A service implementation ready to be mounted on a router, with its
 * generated type erased so services of different types share one list.
 */
export interface MountedService {
  readonly service: DescService;
  register(router: ConnectRouter): void;
}

/** Pairs a generated service with its implementation. */
export function mountService<T extends DescService>(service: T, impl: ServiceImpl<T>): MountedService {
  return { service, register: (router) => void router.service(service, impl) };
}
