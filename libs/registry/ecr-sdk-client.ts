import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import type { EcrTokenClient } from "./ecr-credentials.js";

/** What the SDK client needs beyond the region; both are for tests and special endpoints. */
export interface SdkEcrOptions {
  readonly region: string;
  /** Overrides the ECR endpoint (a VPC endpoint, or a local server in tests). */
  readonly endpoint?: string;
  /** Static credentials; omitted, the SDK's default chain (env, files, IMDS, IRSA) applies. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** `EcrTokenClient` on `@aws-sdk/client-ecr`'s GetAuthorizationToken. */
export function createSdkEcrTokenClient(options: SdkEcrOptions): EcrTokenClient {
  const client = new ECRClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
  });
  return {
    async getAuthorizationToken(signal) {
      const out = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal: signal });
      const data = out.authorizationData?.[0];
      return { token: data?.authorizationToken ?? "", expiresAt: data?.expiresAt };
    },
  };
}
