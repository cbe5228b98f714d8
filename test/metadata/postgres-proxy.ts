import { startTcpForwarder, type TcpForwarder } from "../helpers/tcp-forwarder.js";

/**
 * A TCP forwarder from `port` on 127.0.0.1 to the local Postgres: "the
 * database comes up" for a process that was given `port` while nothing
 * listened there. Closing it cuts every forwarded connection.
 */
export function startPostgresProxy(port: number): Promise<TcpForwarder> {
  return startTcpForwarder(5432, { port });
}
