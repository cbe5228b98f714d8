import { createServer, request, type Server } from "node:http";

/** A loopback HTTP proxy in front of a registry that answers the first `failures` requests itself. */
export interface FailingProxy {
  readonly host: string;
  /** Requests seen, failed or forwarded, as "METHOD path". */
  readonly seen: string[];
  stop(): Promise<void>;
}

/**
 * Forwards every request to `target` (host:port, plain HTTP) except the
 * first `failures` that `matches` accepts (every request by default), which
 * get `status` (503 by default): the registry behind a flaky load balancer,
 * for retry tests.
 */
export async function startFailingProxy(
  target: string,
  failures: number,
  status = 503,
  matches: (method: string, path: string) => boolean = () => true,
): Promise<FailingProxy> {
  const seen: string[] = [];
  let failed = 0;
  const [targetHost, targetPort] = target.split(":");
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method ?? ""} ${req.url ?? ""}`);
    if (failed < failures && matches(req.method ?? "", req.url ?? "")) {
      failed++;
      req.resume();
      res.writeHead(status, { "content-type": "text/plain" }).end("try again");
      return;
    }
    const up = request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    seen,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
