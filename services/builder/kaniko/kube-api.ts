import { ApiException, BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { ErrorCode } from "../../../libs/errors/domain-error.js";
import { KubeApiError } from "./kaniko-errors.js";

/** The two API groups the kaniko mode calls. */
export interface KubeApis {
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
}

export function createKubeApis(kc: KubeConfig): KubeApis {
  return { core: kc.makeApiClient(CoreV1Api), batch: kc.makeApiClient(BatchV1Api) };
}

/**
 * The client configuration: the `[kubernetes] kubeconfig` file when set
 * (the config library fills it from `KUBECONFIG` too), else the in-cluster
 * service account.
 */
export function loadKubeConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath !== "") kc.loadFromFile(kubeconfigPath); else kc.loadFromCluster();
  return kc;
}

/** True when the API answered 404 NotFound. */
export function isNotFound(e: unknown): boolean {
  return e instanceof ApiException && e.code === 404;
}

/** Wraps an API failure into a `KubeApiError` naming the operation, with the Status message of the server. */
export function kubeError(operation: string, e: unknown): KubeApiError {
  if (!(e instanceof ApiException)) return new KubeApiError("unavailable", operation, (e as Error).message ?? String(e), e);
  let message = "";
  const body: unknown = e.body;
  try {
    const parsed = (typeof body === "string" ? JSON.parse(body) : body) as { message?: string } | undefined;
    message = parsed?.message ?? "";
  } catch { message = String(body).slice(0, 200); }
  const codes: Record<number, ErrorCode> = { 401: "unauthenticated", 403: "permissionDenied", 404: "notFound", 409: "alreadyExists", 422: "invalidArgument" };
  return new KubeApiError(codes[e.code] ?? "unavailable", operation, `${e.code}${message === "" ? "" : `: ${message}`}`, e);
}
