import type * as http from "node:http";
import * as http2 from "node:http2";

/** The refusals the edge gives before a body is read. */
export type EdgeRefusal = "unauthenticated" | "permission_denied" | "unavailable";

const grpcStatus: Record<EdgeRefusal, number> = { unauthenticated: 16, permission_denied: 7, unavailable: 14 };
const httpStatus: Record<EdgeRefusal, number> = { unauthenticated: 401, permission_denied: 403, unavailable: 503 };

/**
 * Answers a refused request in the caller's protocol without reading its
 * body: gRPC and gRPC-Web get a trailers-only response (`grpc-status` 16, 7
 * or 14 in the headers, HTTP 200), Connect a JSON error with HTTP 401, 403 or 503,
 * and plain HTTP routes (OpenRun's endpoint) the message as text, as
 * OpenRun's own node answers. The HTTP/1.1 connection is closed after the answer, so the
 * unread body is dropped rather than drained.
 */
export function answerRefusal(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
  code: EdgeRefusal,
  message: string,
): void {
  const contentType = String(req.headers["content-type"] ?? "");
  const challenge = code === "unauthenticated" ? { "www-authenticate": 'Bearer realm="buildplane"' } : {};
  if (/^application\/grpc(-web)?(\+|;|$)/i.test(contentType)) {
    const web = contentType.toLowerCase().startsWith("application/grpc-web");
    const headers = {
      "content-type": web ? (contentType.toLowerCase().startsWith("application/grpc-web-text") ? "application/grpc-web-text+proto" : "application/grpc-web+proto") : "application/grpc+proto",
      "grpc-status": String(grpcStatus[code]),
      "grpc-message": grpcMessage(message),
      ...challenge,
    };
    if (res instanceof http2.Http2ServerResponse) {
      // Trailers-only: one HEADERS frame that ends the stream, then stop the upload.
      const stream = res.stream;
      stream.respond({ ":status": 200, ...headers }, { endStream: true });
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      return;
    }
    res.writeHead(200, { ...headers, connection: "close" });
    res.end();
    return;
  }
  const connect = /^application\/(connect\+)?(json|proto)/i.test(contentType) || String(req.headers["connect-protocol-version"] ?? "") !== "";
  const body = connect ? JSON.stringify({ code, message }) : `${message}\n`;
  const type = connect ? "application/json" : "text/plain; charset=utf-8";
  const headers = { "content-type": type, "content-length": String(Buffer.byteLength(body)), ...challenge };
  if (res instanceof http2.Http2ServerResponse) {
    res.writeHead(httpStatus[code], headers);
    res.end(body);
    if (!res.stream.closed) res.stream.close(http2.constants.NGHTTP2_NO_ERROR);
    return;
  }
  res.writeHead(httpStatus[code], { ...headers, connection: "close" });
  res.end(body);
}

/** `grpc-message` as the gRPC spec encodes it: printable ASCII except `%` kept, every other byte percent-encoded. */
function grpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
