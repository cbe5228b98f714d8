import { RegistryCanceledError, RegistryCertificateError, RegistryError, RegistryUnavailableError } from "./errors.js";

const untrustedCodes = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_UNTRUSTED", "CERT_SIGNATURE_FAILURE", "CERT_REJECTED",
]);

/** The server refused our TLS handshake for want of a (valid) client certificate. */
export class RegistryClientCertificateError extends RegistryError {
  constructor(registry: string, detail: string, options?: { cause?: unknown }) {
    super(
      "failedPrecondition",
      registry,
      `registry "${registry}" refused the TLS handshake (${detail}): it requires a client certificate; set registry.client_cert_file and registry.client_key_file`,
      false,
      options,
    );
  }
}

/**
 * Classifies a socket-level failure once: canceled by the caller, a
 * certificate problem (permanent, with the fix in the message), or a
 * connection problem (retryable).
 */
export function mapTransportError(registry: string, err: unknown, signal: AbortSignal | undefined, what: string): RegistryError {
  if (err instanceof RegistryError) return err;
  if (signal?.aborted === true) return new RegistryCanceledError(registry, what);
  const e = err as NodeJS.ErrnoException & { reason?: unknown };
  const code = e.code ?? "";
  // OpenSSL messages span lines and name source files; its `reason` is the readable part.
  const message = (typeof e.reason === "string" ? e.reason : (e.message ?? String(err))).replace(/\s+/g, " ").trim();
  if (untrustedCodes.has(code)) return new RegistryCertificateError(registry, `${code}: ${message}`, { cause: err });
  if (/certificate required|bad certificate|unknown ca|handshake failure/i.test(message)) {
    return new RegistryClientCertificateError(registry, message, { cause: err });
  }
  return new RegistryUnavailableError(registry, `${what}: ${code === "" ? "" : `${code} `}${message}`.trim(), undefined, { cause: err });
}
