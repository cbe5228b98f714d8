import { Agent, type ClientRequestArgs } from "node:http";
import { createConnection, type NetConnectOpts } from "node:net";
import type { Duplex } from "node:stream";

/**
 * What a connection to the engine takes from its writer before asking it to
 * wait (1 MiB; Node's default is 64 KiB).
 */
export const ENGINE_WRITE_BUFFER_BYTES = 1024 * 1024;

/**
 * The HTTP agent of an engine's connections: Node's global agent's
 * keep-alive, with a larger write buffer on each connection. A build
 * context streams into the engine as fast as the engine reads it only while
 * the next bytes are already queued when the socket drains: with Node's
 * 64 KiB, a writer that needs a moment to bring the next bytes (a builder
 * node, taking them off an HTTP/2 stream) lets the engine wait on every
 * drain. Libuv writes what is queued on its own, without the writer.
 */
export class EngineAgent extends Agent {
  constructor(private readonly writeBufferBytes: number = ENGINE_WRITE_BUFFER_BYTES) {
    super({ keepAlive: true, scheduling: "lifo", timeout: 5000 });
  }

  /** The socket is returned, so the agent takes it from here (the callback is for sockets made asynchronously). */
  override createConnection(options: ClientRequestArgs): Duplex {
    // net.Socket hands its options to Duplex, which takes the write buffer's size; @types/node does not declare it.
    return createConnection({ ...options, writableHighWaterMark: this.writeBufferBytes } as NetConnectOpts);
  }
}
