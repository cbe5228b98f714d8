import { InvalidReferenceError } from "./errors.js";

/**
 * A parsed image reference: `[domain/]path[:tag][@digest]`. `domain` is set
 * only when the first component looks like a host (has a `.` or `:`, or is
 * `localhost`), as Docker decides it.
 */
export interface ImageReference {
  readonly domain: string | undefined;
  /** Repository path inside the registry, e.g. `project/cli-app`. */
  readonly path: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

const maxNameLength = 255;
const domainComponent = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const portPattern = /^[0-9]{1,5}$/;

/**
 * Parses and validates a reference against the distribution reference
 * grammar (domain, path components, tag, digest). Every image name that
 * leaves this project goes through it, so a bad `registry.url` or app id
 * fails here with a message naming it instead of deep inside a push.
 */
export function parseReference(text: string): ImageReference {
  if (text === "") throw new InvalidReferenceError(text, "expected [domain/]path[:tag][@digest], got an empty string");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new InvalidReferenceError(text, "expected no scheme (such as https://) before the domain");
  }
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) {
      throw new InvalidReferenceError(text, `digest ${JSON.stringify(digest)} is not algorithm:hex (at least 32 hex digits)`);
    }
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!tagPattern.test(tag)) {
      throw new InvalidReferenceError(text, `tag ${JSON.stringify(tag)} must be 1 to 128 of [A-Za-z0-9_.-], not starting with . or -`);
    }
  }
  if (rest === "") throw new InvalidReferenceError(text, "expected a repository name before the tag or digest");
  if (rest.length > maxNameLength) {
    throw new InvalidReferenceError(text, `the name is ${rest.length} characters long, at most ${maxNameLength} are allowed`);
  }
  const parts = rest.split("/");
  let domain: string | undefined;
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    domain = first;
    parts.shift();
    checkDomain(text, domain);
  }
  for (const part of parts) {
    if (!pathComponent.test(part)) {
      throw new InvalidReferenceError(
        text,
        `path component ${JSON.stringify(part)} must be lower-case letters and digits, separated by one ".", "_", "__" or dashes`,
      );
    }
  }
  return { domain, path: parts.join("/"), tag, digest };
}

function checkDomain(text: string, domain: string): void {
  const colon = domain.lastIndexOf(":");
  const host = colon >= 0 ? domain.slice(0, colon) : domain;
  const port = colon >= 0 ? domain.slice(colon + 1) : undefined;
  if (port !== undefined && (!portPattern.test(port) || Number(port) > 65535)) {
    throw new InvalidReferenceError(text, `port ${JSON.stringify(port)} of domain ${JSON.stringify(domain)} must be a number up to 65535`);
  }
  if (host === "" || !host.split(".").every((c) => domainComponent.test(c))) {
    throw new InvalidReferenceError(
      text,
      `domain ${JSON.stringify(domain)} must be dot-separated letters, digits and inner dashes, with an optional :port`,
    );
  }
}

/** The repository part, `[domain/]path`, as used in a registry scope. */
export function repositoryOf(ref: ImageReference): string {
  return ref.domain === undefined ? ref.path : `${ref.domain}/${ref.path}`;
}

/** Formats a parsed reference back to text; `parseReference(formatReference(r))` gives `r`. */
export function formatReference(ref: ImageReference): string {
  let out = repositoryOf(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}
