import { InvalidReferenceError } from "./errors.js";
import { parseReference } from "./reference.js";

/** The part of `[registry]` that decides where an image lives. */
export interface RegistryLocation {
  /** host[:port][/path], no scheme; "" means no registry. */
  readonly url: string;
  readonly project: string;
}

/**
 * The one registry-qualified reference of a generated name:
 * `url[/project]/name`, or `name` alone without a registry. Every code path
 * (existence check, push, run, reporting) calls this function, so the
 * project can never be applied in one place and forgotten in another.
 * The result is validated against the reference grammar.
 */
export function qualifiedReference(registry: RegistryLocation | undefined, name: string): string {
  const url = (registry?.url ?? "").trim().replace(/\/+$/, "");
  if (url === "") {
    parseReference(name);
    return name;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new InvalidReferenceError(url, "registry.url must be host[:port][/path] without a scheme such as https://");
  }
  const project = (registry?.project ?? "").trim().replace(/^\/+|\/+$/g, "");
  const ref = project === "" ? `${url}/${name}` : `${url}/${project}/${name}`;
  const parsed = parseReference(ref);
  if (parsed.domain === undefined) {
    throw new InvalidReferenceError(ref, `registry.url ${JSON.stringify(url)} must start with a host that has a "." or ":port", or is localhost`);
  }
  return ref;
}
