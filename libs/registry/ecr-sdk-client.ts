import type { ECRClient } from "@aws-sdk/client-ecr";
import type { EcrTokenClient } from "./ecr-credentials.js";

/** What the SDK client needs beyond the region; both are for tests and special endpoints. */
export interface SdkEcrOptions {
  readonly region: string;
  /** Overrides the ECR endpoint (a VPC endpoint, or a local server in tests). */
  readonly endpoint?: string;
  /** Static credentials; omitted, the SDK's default chain (env, files, IMDS, IRSA) applies. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * `EcrTokenClient` on `@aws-sdk/client-ecr`'s GetAuthorizationToken. The SDK
 * is loaded on the first token request, so installs without ECR never pay
 * for it at start.
 */
export function createSdkEcrTokenClient(options: SdkEcrOptions): EcrTokenClient {
  let client: Promise<{ ecr: ECRClient; sdk: typeof import("@aws-sdk/client-ecr") }> | undefined;
  const connect = async () => {
    const sdk = await import("@aws-sdk/client-ecr");
    const ecr = new sdk.ECRClient({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
    });
    return { ecr, sdk };
  };
  return {
    async getAuthorizationToken(signal) {
      const { ecr, sdk } = await (client ??= connect());
      const out = await ecr.send(new sdk.GetAuthorizationTokenCommand({}), { abortSignal: signal });
      const data = out.authorizationData?.[0];
      return { token: data?.authorizationToken ?? "", expiresAt: data?.expiresAt };
    },
  };
}
