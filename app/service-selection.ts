import { DomainError } from "../libs/errors/domain-error.js";
import { isServiceName, serviceNames, type ServiceName } from "../libs/rpc/service-names.js";

/** A `--services` entry that names no service. */
export class UnknownServiceError extends DomainError {
  constructor(readonly service: string) {
    super("invalidArgument", `--services "${service}" is not a service: expected ${listOf(serviceNames)}`);
  }
}

/** None of the requested services can run in this build of buildplane. */
export class NoServiceAvailableError extends DomainError {
  constructor(readonly requested: readonly ServiceName[]) {
    super("invalidArgument", `--services ${requested.join(",")}: none of these services is available yet: expected at least one of the available services`);
  }
}

/**
 * Parses `--services a,b,…` (commas, spaces tolerated, duplicates dropped);
 * undefined or empty means every service.
 */
export function parseServiceList(text: string | undefined): ServiceName[] {
  if (text === undefined || text.trim() === "") return [...serviceNames];
  const out: ServiceName[] = [];
  for (const raw of text.split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    if (!isServiceName(name)) throw new UnknownServiceError(name);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function listOf(names: readonly string[]): string {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names.at(-1) ?? ""}`;
}
