import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import type { HealthRegistry, HealthStatus } from "./health-registry.js";

const toServingStatus: Readonly<Record<HealthStatus, ServingStatus>> = {
  serving: ServingStatus.SERVING,
  notServing: ServingStatus.NOT_SERVING,
};

/**
 * The standard `grpc.health.v1.Health` service over a `HealthRegistry`, so
 * load balancers, Kubernetes probes and `grpc_health_probe` work unchanged.
 * Check of an unknown service is `NotFound`; Watch of one streams
 * `SERVICE_UNKNOWN` until it appears, as the protocol specifies.
 */
export function createHealthService(registry: HealthRegistry): ServiceImpl<typeof Health> {
  return {
    check(req) {
      const status = registry.get(req.service);
      if (status === undefined) throw new ConnectError(`service "${req.service}" is not known to this server`, Code.NotFound);
      return { status: toServingStatus[status] };
    },
    list() {
      const statuses: Record<string, { status: ServingStatus }> = {};
      for (const [service, status] of registry.list()) statuses[service] = { status: toServingStatus[status] };
      return { statuses };
    },
    async *watch(req, ctx) {
      const current = (): ServingStatus => {
        const status = registry.get(req.service);
        return status === undefined ? ServingStatus.SERVICE_UNKNOWN : toServingStatus[status];
      };
      let wake: (() => void) | undefined;
      const unsubscribe = registry.subscribe((service) => {
        if (service === req.service) wake?.();
      });
      const onAbort = (): void => wake?.();
      ctx.signal.addEventListener("abort", onAbort);
      try {
        let last: ServingStatus | undefined;
        while (!ctx.signal.aborted) {
          const status = current();
          if (status !== last) {
            last = status;
            yield { status };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (ctx.signal.aborted || current() !== last) resolve();
          });
        }
      } finally {
        unsubscribe();
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
