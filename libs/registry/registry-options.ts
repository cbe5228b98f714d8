import { readFile } from "node:fs/promises";
import type { RegistryConfig } from "../config/config-types.js";
import { Secret } from "../secret/secret.js";
import { RegistryConfigError } from "./errors.js";

/**
 * A registry destination with every credential as a value, never a path:
 * what the client needs, whether it came from this machine's config or
 * travelled with a delegated build.
 */
export interface RegistryClientOptions {
  /** host[:port][/path], no scheme. Only the host part is used by the client. */
  readonly url: string;
  /** Plain HTTP allowed (tried after HTTPS fails), and no certificate verification. */
  readonly insecure: boolean;
  readonly type: "" | "ecr";
  readonly username: string;
  readonly password: Secret | undefined;
  /** PEM bundle added to the system roots; "" for none. */
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: Secret | undefined;
  readonly awsRegion: string;
}

/**
 * The one registry credential loader: turns the `[registry]` section into
 * client options. The password is `password` when it is set and not empty,
 * else the contents of `password_file` (trimmed); the config library refuses
 * both set at once. `ca_file` and the client key pair are read as PEM text.
 * Errors name the key and the path, never file contents.
 */
export async function loadRegistryOptions(config: RegistryConfig): Promise<RegistryClientOptions> {
  let password = config.password;
  if ((password === undefined || password.isEmpty) && config.passwordFile !== "") {
    password = new Secret((await readConfigFile("password_file", config.passwordFile)).trim());
  }
  const caPem = config.caFile === "" ? "" : await readConfigFile("ca_file", config.caFile);
  if (caPem !== "" && !caPem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new RegistryConfigError("ca_file", `${JSON.stringify(config.caFile)} holds no PEM certificate: expected -----BEGIN CERTIFICATE-----`);
  }
  if ((config.clientCertFile === "") !== (config.clientKeyFile === "")) {
    const missing = config.clientCertFile === "" ? "client_cert_file" : "client_key_file";
    const other = missing === "client_cert_file" ? "client_key_file" : "client_cert_file";
    throw new RegistryConfigError(missing, `is empty but registry.${other} is set: expected both or neither`);
  }
  const clientCertPem = config.clientCertFile === "" ? "" : await readConfigFile("client_cert_file", config.clientCertFile);
  const clientKeyPem = config.clientKeyFile === "" ? undefined : new Secret(await readConfigFile("client_key_file", config.clientKeyFile));
  return Object.freeze({
    url: config.url,
    insecure: config.insecure,
    type: config.type,
    username: config.username,
    password,
    caPem,
    clientCertPem,
    clientKeyPem,
    awsRegion: config.awsRegion,
  });
}

async function readConfigFile(key: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new RegistryConfigError(key, `${JSON.stringify(path)} cannot be read (${code}): expected a readable file`, { cause: err });
  }
}

/** The host[:port] part of a registry url. */
export function registryHost(url: string): string {
  return url.replace(/^\/+/, "").split("/")[0] ?? "";
}
