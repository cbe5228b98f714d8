import { createHash } from "node:crypto";
import { repositoryWithoutCredentials } from "./repository-without-credentials.js";

/** Longest app part kept in a repository name, so a qualified name stays far below 255 characters. */
const maxAppLength = 64;

/**
 * OpenRun's generated name shape: `cli-<app>:<first 16 hex of the key>`.
 * `<app>` is the app id made valid for the distribution grammar; without an
 * app id it comes from the repository and folder (see `appPartFromSource`).
 */
export function imageName(appPart: string, key: string): string {
  return `cli-${appPart}:${key.slice(0, 16).toLowerCase()}`;
}

/**
 * The app part of a name for an app id. A valid id (`app_prd_2abc…`) is kept
 * as is; one that had to be changed gets a short hash of the original, so
 * "My App" and "my-app" never share a repository.
 */
export function appPartFromAppId(appId: string): string {
  const clean = sanitizeComponent(appId);
  return clean === appId ? clean : `${trimLength(clean, maxAppLength - 7)}-${shortHash(appId, 6)}`;
}

/**
 * The app part of a name for a build without an app id: the repository's
 * last path segment and the folder, sanitized, plus 8 hex of a hash of the
 * repository and folder, so two repositories named `web` stay apart. URL
 * credentials are left out first, so a token never shapes the name.
 */
export function appPartFromSource(repository: string, dir: string): string {
  const plain = repositoryWithoutCredentials(repository);
  const repoName = lastSegment(plain).replace(/\.git$/i, "");
  const readable = [repoName, ...dir.split("/").filter((s) => s !== "" && s !== ".")].join("-");
  const clean = trimLength(sanitizeComponent(readable), maxAppLength - 9);
  return `${clean}-${shortHash(`${plain}\0${dir}\0`, 8)}`;
}

/**
 * Makes any text a valid path component: lower case, runs of [a-z0-9]
 * separated by exactly one of ".", "_", "__" or dashes; anything else
 * becomes "-". Never returns "" (falls back to "app").
 */
export function sanitizeComponent(text: string): string {
  const lowered = text.toLowerCase().replace(/[^a-z0-9._-]+/g, "-");
  const runs = lowered.split(/([^a-z0-9]+)/).filter((s) => s !== "");
  const out: string[] = [];
  for (const run of runs) {
    if (/^[a-z0-9]/.test(run)) out.push(run);
    else if (out.length > 0) out.push(/^(?:\.|_|__|-+)$/.test(run) ? run : "-");
  }
  if (out.length > 0 && !/^[a-z0-9]/.test(out[out.length - 1] ?? "")) out.pop();
  return out.length === 0 ? "app" : out.join("");
}

function trimLength(component: string, max: number): string {
  return component.length <= max ? component : component.slice(0, max).replace(/[^a-z0-9]+$/, "");
}

function lastSegment(repository: string): string {
  const trimmed = repository.replace(/[/\\]+$/, "");
  const parts = trimmed.split(/[/\\:]/);
  return parts[parts.length - 1] ?? "";
}

function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}
