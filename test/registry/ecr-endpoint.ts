import { createServer, type Server } from "node:http";

/** One GetAuthorizationToken call as the endpoint saw it. */
export interface EcrCall {
  /** The `x-amz-target` header, the operation's name. */
  readonly target: string;
  /** The SigV4 `authorization` header (names the region in its scope). */
  readonly authorization: string;
}

/** A local ECR endpoint of the test's own that answers every call with a token. */
export interface EcrEndpoint {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint` or `AWS_ENDPOINT_URL_ECR`. */
  readonly url: string;
  /** Every call received, in order (to check token reuse). */
  readonly calls: EcrCall[];
  /** Replaces what later calls get. */
  answerWith(token: { readonly username: string; readonly password: string; readonly expiresInSecs: number }): void;
  stop(): Promise<void>;
}

/**
 * Answers the AWS JSON protocol's GetAuthorizationToken with a base64
 * `username:password` token, as ECR does, so the real AWS SDK can be
 * pointed at it.
 */
export async function startEcrEndpoint(token: { readonly username: string; readonly password: string; readonly expiresInSecs: number }): Promise<EcrEndpoint> {
  const calls: EcrCall[] = [];
  let current = token;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls.push({ target: String(req.headers["x-amz-target"]), authorization: String(req.headers.authorization) });
      const answer = {
        authorizationData: [{
          authorizationToken: Buffer.from(`${current.username}:${current.password}`).toString("base64"),
          expiresAt: Date.now() / 1000 + current.expiresInSecs,
        }],
      };
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`,
    calls,
    answerWith: (next) => { current = next; },
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
