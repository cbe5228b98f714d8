import type { Secret } from "../secret/secret.js";

/** A user name and password for Basic auth or a token exchange. */
export interface Credentials {
  readonly username: string;
  readonly password: Secret;
}

/**
 * Where credentials come from: fixed config values, or a token service
 * (ECR) whose answer expires. `invalidate` drops a cached answer after the
 * registry rejected it; `username` is what errors may show.
 */
export interface CredentialSource {
  readonly username: string;
  get(signal: AbortSignal | undefined): Promise<Credentials | undefined>;
  invalidate(): void;
}

/** Credentials from config; anonymous when either part is empty, as OpenRun does. */
export function createStaticCredentials(username: string, password: Secret | undefined): CredentialSource {
  const creds = username !== "" && password !== undefined && !password.isEmpty ? { username, password } : undefined;
  return {
    username: creds === undefined ? "" : username,
    get: async () => creds,
    invalidate: () => {},
  };
}
