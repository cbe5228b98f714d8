import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for servers that cannot
 * listen on port 0 themselves (child processes such as docker-registry).
 * The kernel hands out ephemeral ports in turn, so a port is rarely reused
 * by another test before its owner binds it.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("free port: server address is not a TCP address"));
      });
    });
  });
}
