import { openRunDelegatePath, openRunHealthPath } from "../wire/openrun-codec.js";
import type { AnyRequest, AnyResponse } from "./http-answer.js";
import { answer } from "./http-answer.js";

export { openRunDelegatePath, openRunHealthPath } from "../wire/openrun-codec.js";

type Handler = (req: AnyRequest, res: AnyResponse) => void;

/**
 * Routes OpenRun's paths (`/_openrun/delegate_build` to `delegate`,
 * `/_openrun/health` to a plain `OK`, other `/_openrun/*` to 404) and hands
 * everything else to `next` (the Connect adapter). Paths are cleaned first
 * (`//_openrun/…`, as OpenRun's client sends with a trailing slash in the URL).
 */
export function withOpenRunRoutes(delegate: Handler, next: Handler): Handler {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0]?.replace(/\/{2,}/g, "/") ?? "/";
    if (!path.startsWith("/_openrun/")) return next(req, res);
    if (path === openRunDelegatePath) return delegate(req, res);
    if (path === openRunHealthPath && (req.method === "GET" || req.method === "HEAD")) return answer(req, res, 200, "OK");
    answer(req, res, 404, `${path} is not served here`);
  };
}
