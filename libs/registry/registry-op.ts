/** Called once per HTTP exchange with a registry (each retry and redirect hop is one). */
export type RegistryExchangeObserver = (op: string, code: string) => void;

/**
 * A bounded name for a registry request, from its method and path:
 * `ping`, `head_manifest`, `put_manifest`, `head_blob`, `get_blob`,
 * `post_upload`, `patch_upload`, `put_upload`, `get_token` (a token realm
 * or anything outside `/v2/`), `get_tags`… — never a repository or a tag.
 */
export function registryOp(method: string, url: URL): string {
  const verb = method.toLowerCase();
  const path = url.pathname;
  if (!path.startsWith("/v2/")) return `${verb}_token`;
  if (path === "/v2/" || path === "/v2") return "ping";
  if (/\/blobs\/uploads(\/|$)/.test(path)) return `${verb}_upload`;
  if (/\/blobs\//.test(path)) return `${verb}_blob`;
  if (/\/manifests\//.test(path)) return `${verb}_manifest`;
  if (/\/tags\/list$/.test(path)) return `${verb}_tags`;
  return `${verb}_other`;
}

/** The `code` label of an exchange that got no HTTP answer: the socket error's code, bounded to known shapes. */
export function transportCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^E[A-Z_]{2,30}$/.test(code) ? code : "error";
}
