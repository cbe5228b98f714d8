import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { BuilderService } from "../libs/gen/buildplane/v1/builder_pb.js";
import { MetadataService } from "../libs/gen/buildplane/v1/metadata_pb.js";

/** The API clients the page uses, all on the page's own origin (Connect protocol). */
export interface Api {
  readonly metadata: Client<typeof MetadataService>;
  readonly builder: Client<typeof BuilderService>;
}

/** Creates the clients; `token()` is read on every call, so logging in needs no new clients. */
export function createApi(token: () => string | undefined): Api {
  const bearer: Interceptor = (next) => async (req) => {
    const t = token();
    if (t) req.header.set("Authorization", `Bearer ${t}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: window.location.origin, interceptors: [bearer] });
  return { metadata: createClient(MetadataService, transport), builder: createClient(BuilderService, transport) };
}

/** The error of a failed call as one line, with its code name as the API gives it. */
export function describeError(err: unknown): string {
  const e = ConnectError.from(err);
  return `${codeName(e.code)}: ${e.rawMessage}`;
}

/** True for the errors that mean the caller has no valid token. */
export function isUnauthenticated(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unauthenticated;
}

/** True when the thing asked for does not exist (a build id nobody made). */
export function isNotFound(err: unknown): boolean {
  return ConnectError.from(err).code === Code.NotFound;
}

/** True when the call was aborted by the page itself (navigating away). */
export function isCanceled(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Canceled;
}

function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}
