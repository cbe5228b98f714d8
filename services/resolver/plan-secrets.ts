import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import { Secret } from "../../libs/secret/secret.js";
import type { ImageSpec } from "./domain.js";

/** The parts of a build that carry secret values. */
export interface SecretBearer {
  readonly spec: ImageSpec;
  readonly registry?: RegistryTarget | undefined;
  /** Further secret values (the config's tokens and passwords). */
  readonly knownSecrets?: readonly string[] | undefined;
}

/**
 * Every secret value a build's log could echo: its secret build args, the
 * request's git credentials (also a password written in the repository
 * URL), the registry password and client key, and the config's own secrets
 * (`knownSecrets`).
 */
export function secretsOfPlan(plan: SecretBearer): string[] {
  const out: string[] = [];
  for (const arg of plan.spec.args) if (arg.value instanceof Secret) out.push(arg.value.unwrap());
  const source = plan.spec.source;
  if (source?.credentials) out.push(source.credentials.password?.unwrap() ?? "", source.credentials.privateKey?.unwrap() ?? "");
  out.push(...urlPasswordOf(source?.repository ?? ""));
  if (plan.registry) out.push(plan.registry.password?.unwrap() ?? "", plan.registry.clientKeyPem?.unwrap() ?? "");
  out.push(...(plan.knownSecrets ?? []));
  return out.filter((s) => s !== "");
}

function urlPasswordOf(repository: string): string[] {
  try {
    const url = new URL(repository);
    return url.password === "" ? [] : [url.password, decodeURIComponent(url.password)];
  } catch {
    return [];
  }
}
