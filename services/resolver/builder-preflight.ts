import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import { Secret } from "../../libs/secret/secret.js";
import type { ImageSpec } from "./domain.js";
import type { BuilderPort } from "./ports.js";

/**
 * Refuses a spec the builder's mode cannot serve — a secret build arg the
 * mode would record in the image, no registry for a mode that always
 * pushes — with the builder's own rule and wording, before the flow takes
 * a lease or writes a record.
 */
export async function refuseUnservable(
  builder: BuilderPort,
  spec: ImageSpec,
  reference: string,
  registry: RegistryTarget | undefined,
  signal: AbortSignal,
): Promise<void> {
  const secretArgs = spec.args.filter((a) => a.value instanceof Secret).map((a) => a.name);
  await builder.checkServable({ buildId: reference, secretArgs, hasRegistry: registry !== undefined && registry.url !== "" }, signal);
}
