import { createPushPreflight } from "../../libs/registry/push-preflight.js";
import { createRegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import { createPushCheck, type PushCheck } from "../../services/resolver/push-check.js";
import type { ServiceContext } from "../service-registry.js";

/**
 * The resolver's push check before each build: its own registry clients
 * (closed at shutdown) and successes trusted for `[registry] push_check_ttl_secs`.
 */
export function sharedPushCheck(ctx: ServiceContext): PushCheck {
  const pool = createRegistryClientPool();
  ctx.defer(async () => pool.close());
  const preflight = createPushPreflight({ pool, ttlMs: () => ctx.config.current().registry.pushCheckTtlSecs * 1000 });
  return createPushCheck(preflight);
}
