import type { HealthRegistry } from "./health-registry.js";

/** Keeps "" (the whole server) in a `HealthRegistry` in step with the services mounted on it. */
export interface ServerHealth {
  /** The server listens: mounted services that reported nothing yet become SERVING, and "" follows them all. */
  start(): void;
  /** The server shuts down: "" and every mounted service become NOT_SERVING for good. */
  stop(): void;
}

/**
 * A plain gRPC probe (a Kubernetes `grpc:` readiness probe, `grpc_health_probe`
 * without `-service`) checks "", so "" is SERVING only while the server
 * listens and every mounted service is SERVING, and NOT_SERVING while any one
 * is not (the metadata service while its database is away).
 */
export function createServerHealth(health: HealthRegistry, services: readonly string[]): ServerHealth {
  let listening = false;
  let unsubscribe: (() => void) | undefined;
  const refresh = (): void => {
    const allServing = listening && services.every((service) => health.get(service) === "serving");
    health.set("", allServing ? "serving" : "notServing");
  };
  return {
    start() {
      listening = true;
      for (const service of services) if (health.get(service) === undefined) health.set(service, "serving");
      unsubscribe ??= health.subscribe((service) => {
        if (services.includes(service)) refresh();
      });
      refresh();
    },
    stop() {
      listening = false;
      unsubscribe?.();
      health.set("", "notServing");
      for (const service of services) health.set(service, "notServing");
    },
  };
}
