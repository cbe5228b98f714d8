import { readFileSync } from "node:fs";
import { DomainError } from "../libs/errors/domain-error.js";
import type { HttpsConfig } from "../libs/config/config-types.js";
import type { TlsOptions } from "../libs/rpc/listeners.js";

/** A `[https]` file that cannot be read. */
export class TlsFileError extends DomainError {
  constructor(readonly key: string, readonly file: string, reason: string) {
    super("invalidArgument", `https.${key} "${file}" cannot be read (${reason}): expected a readable PEM file`);
  }
}

/** `[https] cert_file` without `key_file`, or the reverse. */
export class TlsPairError extends DomainError {
  constructor() {
    super("invalidArgument", "https.cert_file and https.key_file must be set together: expected both or neither");
  }
}

/**
 * Reads the PEM files of `[https]`; undefined when TLS is not configured
 * (plain h2c and HTTP/1.1).
 */
export function readTlsFiles(https: HttpsConfig): TlsOptions | undefined {
  if (https.certFile === "" && https.keyFile === "") return undefined;
  if (https.certFile === "" || https.keyFile === "") throw new TlsPairError();
  return {
    certPem: readPem("cert_file", https.certFile),
    keyPem: readPem("key_file", https.keyFile),
    clientCaPem: https.clientCaFile === "" ? undefined : readPem("client_ca_file", https.clientCaFile),
  };
}

function readPem(key: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new TlsFileError(key, file, (err as NodeJS.ErrnoException).code ?? "error");
  }
}
