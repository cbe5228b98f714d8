import type { Client } from "@connectrpc/connect";
import { checkCapabilities } from "../../libs/build/capability-check.js";
import type { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import type { BuildSpec, Registry } from "../../libs/gen/buildplane/v1/common_pb.js";

/**
 * Asks the builder what its mode can do (`GetStatus` capabilities) and
 * refuses a spec it cannot serve — a secret build arg the mode would record
 * in the image, no registry for a mode that always pushes — with the
 * builder's own rule and wording, before the flow takes a lease or writes a
 * record. A builder that reports no capabilities (an older one) is trusted
 * to refuse by itself.
 */
export async function refuseUnservable(
  builder: Client<typeof BuilderService>,
  spec: BuildSpec,
  reference: string,
  registry: Registry | undefined,
  signal: AbortSignal,
): Promise<void> {
  const secretArgs = spec.args.filter((a) => a.secret).map((a) => a.name);
  const status = await builder.getStatus({}, { signal });
  if (!status.capabilities) return;
  checkCapabilities(status.mode, status.capabilities, { buildId: reference, secretArgs, hasRegistry: registry !== undefined && registry.url !== "" });
}
