import type { HttpResponse, RequestBody } from "./http-request.js";
import { header } from "./http-request.js";

/** One hop as the caller sends it; `credentialed` says whether credentials may go with it. */
export interface Hop {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: RequestBody | undefined;
  /** True only on the origin the credentials belong to: send `Authorization` and present the client certificate. */
  readonly credentialed: boolean;
}

/** A redirect the client will not follow: too many hops, or from HTTPS down to plain HTTP. */
export class RedirectRefusedError extends Error {
  constructor(readonly from: URL, readonly to: string, readonly reason: string) {
    super(`redirect from ${from.origin}${from.pathname} to ${to} is not followed: ${reason}`);
  }
}

const redirectStatuses: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const bodyHeaders = ["content-type", "content-length", "content-range"];

/**
 * Sends a request and follows its redirects (at most `maxHops`), the way a
 * registry client must: `credentials` (the `Authorization` header) go only
 * to `origin` — scheme, host and port of the registry they belong to — and
 * never to a host a redirect or a `Location` names, such as a storage
 * backend; `send` is told so it presents the client certificate only there
 * too. A 303, or a 301/302 after a POST, continues as a GET without body
 * (as browsers and Go's client do); 307/308 resend the same method and
 * body. A redirect from HTTPS to plain HTTP is refused.
 */
export async function sendFollowingRedirects(
  first: { readonly method: string; readonly url: URL; readonly headers: Record<string, string>; readonly body: RequestBody | undefined },
  credentials: Record<string, string>,
  origin: string,
  send: (hop: Hop) => Promise<HttpResponse>,
  maxHops = 5,
): Promise<HttpResponse> {
  let { method, url, headers, body } = first;
  for (let hop = 0; ; hop++) {
    const credentialed = url.origin === origin;
    const res = await send({ method, url, headers: credentialed ? { ...headers, ...credentials } : { ...headers }, body, credentialed });
    const location = header(res, "location");
    if (!redirectStatuses.has(res.status) || location === undefined || location === "") return res;
    if (hop >= maxHops) throw new RedirectRefusedError(url, location, `more than ${maxHops} redirects`);
    const next = new URL(location, url);
    if (next.protocol !== "https:" && next.protocol !== "http:") throw new RedirectRefusedError(url, location, "expected an http or https url");
    if (url.protocol === "https:" && next.protocol === "http:") throw new RedirectRefusedError(url, location, "it leaves HTTPS for plain HTTP");
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
      method = "GET";
      body = undefined;
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !bodyHeaders.includes(k.toLowerCase())));
    }
    url = next;
  }
}
