import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { LifecycleService } from "../../libs/gen/buildplane/v1/lifecycle_pb.js";
import { isDomainError } from "../../libs/errors/domain-error.js";
import { CliExit, exitCodes } from "./exit.js";
import { checkServerUrl } from "./server-url.js";
import { nameServerInFailure, serverToken, tokenInterceptors, type ServerCredentialOptions } from "./server-credential.js";

/** A LifecycleService client on a server and how to let go of it. */
export interface LifecycleConnection {
  readonly client: Client<typeof LifecycleService>;
  close(): void;
}

/** Connects to `--server url` with the command's bearer token. */
export function connectLifecycle(url: string, opts: ServerCredentialOptions & { origin?: string }): LifecycleConnection {
  const parsed = checkServerUrl(url, opts.origin ?? "--server");
  const sessionManager = new Http2SessionManager(parsed.origin);
  const transport: Transport = createGrpcTransport({ baseUrl: url, sessionManager, interceptors: tokenInterceptors(serverToken(opts, process.env)) });
  return { client: createClient(LifecycleService, transport), close: () => sessionManager.abort() };
}

/**
 * An RPC or domain failure as the CLI's exit: the code name and message,
 * exit 2 for invalid arguments, 1 otherwise; a server that cannot be reached is named.
 */
export function lifecycleFailure(err: unknown, server: string | undefined, origin?: string): unknown {
  if (err instanceof ConnectError) {
    const named = server ? nameServerInFailure(err, server, origin) : err;
    return new CliExit(named.code === Code.InvalidArgument ? exitCodes.usage : exitCodes.failure, named.rawMessage);
  }
  if (isDomainError(err)) return new CliExit(err.code === "invalidArgument" ? exitCodes.usage : exitCodes.failure, err.message);
  return err;
}
