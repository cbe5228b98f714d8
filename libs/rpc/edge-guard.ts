import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import type { Credentials, PeerCertificate } from "./credentials.js";
import { rememberCaller } from "./caller-identity.js";
import { answerRefusal } from "./edge-answer.js";
import type { DualHandler } from "./listeners.js";
import { ruleForRequest } from "./rpc-scopes.js";

/**
 * Wraps the port's handler so credential and scope are checked from the
 * request line and headers alone, before any body is read or decompressed:
 * a caller without a valid credential costs the server no more than its
 * headers. Open methods (health, reflection) pass; with no credential
 * configured everything passes (the start-up check decides whether that is
 * allowed). A path in no table still needs a valid credential.
 */
export function createEdgeGuard(credentials: Credentials): (next: DualHandler) => DualHandler {
  return (next) => {
    if (!credentials.configured) return next;
    return (req, res) => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const route = ruleForRequest(req.method ?? "GET", path);
      // A signed route checks its own signature against its shared secret (and is closed without one).
      if (route?.rule === "open" || route?.rule === "signed") return next(req, res);
      const authorization = req.headers["authorization"];
      const identity = credentials.identify(typeof authorization === "string" ? authorization : undefined, peerCertificate(req));
      if (!identity.ok) return answerRefusal(req, res, "unauthenticated", identity.message);
      if (route !== undefined && route.rule.length === 0) {
        return answerRefusal(req, res, "permission_denied", `${route.name} is in no scope of the server's table, so no credential may call it`);
      }
      if (route !== undefined && !route.rule.some((s) => identity.scopes.has(s))) {
        const needed = route.rule.length === 1 ? `scope ${route.rule[0] ?? ""}` : `one of the scopes ${route.rule.join(", ")}`;
        const who = identity.who.length === 1 ? `${identity.who[0] ?? ""} does` : `${identity.who.join(" and ")} do`;
        return answerRefusal(req, res, "permission_denied", `${route.name} needs ${needed}, which ${who} not carry`);
      }
      rememberCaller(req, identity.who.join(" and "), identity.scopes);
      return next(req, res);
    };
  };
}

/** The verified client certificate of a TLS connection, if any. */
function peerCertificate(req: http.IncomingMessage | http2.Http2ServerRequest): PeerCertificate | undefined {
  const socket = ("stream" in req ? req.stream.session?.socket : req.socket) as Partial<TLSSocket> | undefined;
  if (!socket || typeof socket.getPeerCertificate !== "function" || socket.authorized !== true) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const cn = cert.subject?.CN;
  return {
    commonName: Array.isArray(cn) ? String(cn[0] ?? "") : String(cn ?? ""),
    altNames: (cert.subjectaltname ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""),
  };
}
