/** A service's health as the runtime reports it through `grpc.health.v1`. */
export type HealthStatus = "serving" | "notServing";

/** Called with a service name ("" is the whole server) and its new status. */
export type HealthListener = (service: string, status: HealthStatus) => void;

/**
 * The health of each mounted service, by fully qualified name (e.g.
 * `buildplane.v1.ConfigService`), plus "" for the server as a whole, SERVING
 * only while every mounted service is. A service reports `notServing` while a
 * dependency is down (metadata until its database connects); the standard
 * Health service reads and watches it.
 */
export interface HealthRegistry {
  set(service: string, status: HealthStatus): void;
  /** The status of `service`, or undefined when it is not registered. */
  get(service: string): HealthStatus | undefined;
  /** Every registered service with its status. */
  list(): ReadonlyMap<string, HealthStatus>;
  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(listener: HealthListener): () => void;
}

/** Creates an empty registry; the server sets "" when it starts, from its services (see `createServerHealth`). */
export function createHealthRegistry(): HealthRegistry {
  const statuses = new Map<string, HealthStatus>();
  const listeners = new Set<HealthListener>();
  return {
    set(service, status) {
      if (statuses.get(service) === status) return;
      statuses.set(service, status);
      for (const listener of [...listeners]) listener(service, status);
    },
    get: (service) => statuses.get(service),
    list: () => new Map(statuses),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
