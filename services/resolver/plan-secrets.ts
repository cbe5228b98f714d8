import type { BuildPlan } from "./run-build.js";

/**
 * Every secret value a build's log could echo: its secret build args, the
 * request's git credentials (also a password written in the repository
 * URL), the registry password and client key, and the config's own secrets
 * (`plan.knownSecrets`).
 */
export function secretsOfPlan(plan: Pick<BuildPlan, "spec" | "knownSecrets"> & Partial<Pick<BuildPlan, "registry">>): string[] {
  const out: string[] = [];
  for (const arg of plan.spec.args) if (arg.secret) out.push(arg.value);
  const source = plan.spec.source;
  if (source?.credentials) out.push(source.credentials.password, source.credentials.privateKey);
  out.push(...urlPasswordOf(source?.repository ?? ""));
  if (plan.registry) out.push(plan.registry.password, plan.registry.clientKeyPem);
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
