import { readFile } from "node:fs/promises";
import { DomainError } from "../../libs/errors/domain-error.js";
import type { RegistryConfig } from "../../libs/config/config-types.js";
import type { RegistryClientOptions } from "../../libs/registry/registry-options.js";
import { Secret } from "../../libs/secret/secret.js";

/** A registry file (password, CA, client certificate or key) that cannot be read now. */
export class RegistryFileError extends DomainError {
  constructor(readonly key: string, readonly path: string, readonly reason: string) {
    super("failedPrecondition", `${key} ${JSON.stringify(path)} cannot be read (${reason}): expected a readable file`);
  }
}

/** A registry destination with its credentials as values, ready to hand to a pusher. */
export interface RegistryCredentials extends RegistryClientOptions {
  readonly project: string;
}

/**
 * Resolves `[registry]` into credentials: the password from `password` or
 * `password_file` (trimmed), and the CA, client certificate and key files
 * read into PEM text. Files are read at call time, so rotated credentials
 * are picked up. Undefined when no registry is configured.
 */
export async function resolveRegistryCredentials(r: RegistryConfig, signal: AbortSignal): Promise<RegistryCredentials | undefined> {
  if (r.url === "") return undefined;
  // ECR tokens are minted where they are used, by the registry client with
  // the caller's AWS identity (and turned into a plain token before a build
  // is delegated), so an ECR destination carries no secret here.
  if (r.type === "ecr") {
    return { url: r.url, project: r.project, type: "ecr", insecure: r.insecure, username: "", password: undefined, caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: r.awsRegion };
  }
  const read = async (key: string, path: string): Promise<string> => {
    if (path === "") return "";
    try {
      return await readFile(path, { encoding: "utf8", signal });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new RegistryFileError(`registry.${key}`, path, (err as NodeJS.ErrnoException).code ?? "error");
    }
  };
  const password = r.password ?? (r.passwordFile ? new Secret((await read("password_file", r.passwordFile)).trim()) : undefined);
  const clientKey = await read("client_key_file", r.clientKeyFile);
  return {
    url: r.url,
    project: r.project,
    type: r.type,
    insecure: r.insecure,
    username: r.username,
    password,
    caPem: await read("ca_file", r.caFile),
    clientCertPem: await read("client_cert_file", r.clientCertFile),
    clientKeyPem: clientKey ? new Secret(clientKey) : undefined,
    awsRegion: r.awsRegion,
  };
}
