import { RegistryError } from "./errors.js";
import type { CredentialSource, Credentials } from "./credentials.js";
import { Secret } from "../secret/secret.js";

/** The one ECR call we need, as our own interface (the SDK adapter is `ecr-sdk-client.ts`). */
export interface EcrTokenClient {
  getAuthorizationToken(signal: AbortSignal | undefined): Promise<{ readonly token: string; readonly expiresAt: Date | undefined }>;
}

const ecrHost = /^[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?::[0-9]+)?$/i;

/**
 * The ECR region: from the host `<12 digits>.dkr.ecr.<region>.amazonaws.com`,
 * else `aws_region`, else us-east-1 (OpenRun's order).
 */
export function ecrRegion(host: string, awsRegion: string): string {
  const m = ecrHost.exec(host);
  if (m?.[1] !== undefined) return m[1].toLowerCase();
  return awsRegion !== "" ? awsRegion : "us-east-1";
}

/** Time kept in hand before a token's expiry, so a token is never used in its last minutes. */
const expiryMarginMs = 5 * 60 * 1000;
/** Lifetime assumed when the answer has no expiry. */
const defaultLifetimeMs = 60 * 60 * 1000;

/** ECR auth failed; the message carries the SDK's error name and message, which hold no secret. */
export class EcrAuthError extends RegistryError {
  constructor(registry: string, region: string, detail: string, options?: { cause?: unknown }) {
    super("unauthenticated", registry, `ecr GetAuthorizationToken for registry "${registry}" in region "${region}" failed: ${detail}`, false, options);
  }
}

/**
 * Basic credentials from ECR's GetAuthorizationToken (base64 `AWS:<pass>`),
 * reused until shortly before `expiresAt`; concurrent callers share one call.
 */
export function createEcrCredentials(client: EcrTokenClient, registry: string, region: string, now: () => number = Date.now): CredentialSource {
  let cached: { creds: Credentials; until: number } | undefined;
  let pending: Promise<Credentials> | undefined;
  async function fetchToken(signal: AbortSignal | undefined): Promise<Credentials> {
    let answer: Awaited<ReturnType<EcrTokenClient["getAuthorizationToken"]>>;
    try {
      answer = await client.getAuthorizationToken(signal);
    } catch (err) {
      const e = err as { name?: string; message?: string };
      throw new EcrAuthError(registry, region, `${e.name ?? "Error"}: ${e.message ?? String(err)}`, { cause: err });
    }
    const decoded = Buffer.from(answer.token, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (answer.token === "" || colon < 0) throw new EcrAuthError(registry, region, "the answer held no token of the form user:password");
    const creds = { username: decoded.slice(0, colon) || "AWS", password: new Secret(decoded.slice(colon + 1)) };
    const expires = answer.expiresAt?.getTime() ?? now() + defaultLifetimeMs;
    cached = { creds, until: expires - expiryMarginMs };
    return creds;
  }
  return {
    username: "AWS",
    async get(signal) {
      if (cached !== undefined && now() < cached.until) return cached.creds;
      pending ??= fetchToken(signal).finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
