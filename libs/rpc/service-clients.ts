import { Code, ConnectError, createClient, createRouterTransport, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { Secret } from "../secret/secret.js";
import { createBearerTokenInterceptor } from "./auth-interceptor.js";
import { createErrorInterceptor } from "./errors.js";
import { createInProcessBytes } from "./in-process-bytes.js";
import type { RpcLogger } from "./rpc-logger.js";
import type { MountedService } from "./service-mount.js";
import { serviceDescriptors, serviceNames, type ServiceName } from "./service-names.js";

/** A typed client for every buildplane service. */
export type ServiceClients = { readonly [K in ServiceName]: Client<(typeof serviceDescriptors)[K]> } & {
  /** Closes the HTTP/2 sessions to remote services (an open session keeps the process alive). */
  close(): void;
};

export interface ServiceClientsOptions {
  /**
   * The services mounted in this process. Read on the first call, so the
   * clients can be handed to the very services they reach.
   */
  readonly local: () => readonly MountedService[];
  /** `[services] <name>_url` of the services running elsewhere; "" or absent means none. */
  readonly urls: Partial<Record<ServiceName, string>>;
  /** Sent as a bearer token to remote services. */
  readonly token?: Secret | undefined;
  /** Where client-side failures are logged (the embedded CLI passes `silentLogger`). */
  readonly log: RpcLogger;
  /** `[system] data_dir`, named in the error a full disk causes. */
  readonly dataDir?: string;
  /** Client interceptors of every call, in-process or remote (trace context). */
  readonly clientInterceptors?: readonly Interceptor[];
  /** Server interceptors of calls served in this process, run inside error mapping (spans, access lines, metrics). */
  readonly inProcessInterceptors?: readonly Interceptor[];
}

/**
 * Clients for every service: a service mounted in this process is called
 * through an in-process router transport (same serialization and error
 * mapping as over the wire, no socket; streamed bytes fields are passed by
 * reference); any other through gRPC over HTTP/2
 * to its configured URL. A service that is neither answers `Unavailable`.
 */
export function createServiceClients(options: ServiceClientsOptions): ServiceClients {
  const log = options.log;
  // Rebuilt when services were mounted since it was built: a service may call
  // another while the process is still mounting the rest (a watch started by
  // its factory), and the router must not stay without those mounted later.
  const inProcess = transportPerMount(options.local, (mounted) => {
    // A context's chunks cross the hop by reference, not serialized and parsed again (see in-process-bytes.ts).
    const bytes = createInProcessBytes();
    return createRouterTransport(
      (router) => {
        for (const m of mounted) m.register(router);
      },
      {
        transport: { interceptors: [...(options.clientInterceptors ?? []), bytes.client] },
        router: { interceptors: [bytes.server, createErrorInterceptor(log, { dataDir: options.dataDir }), ...(options.inProcessInterceptors ?? [])] },
      },
    );
  });
  const sessions: Http2SessionManager[] = [];
  const remoteInterceptors: Interceptor[] = [...(options.clientInterceptors ?? []), ...(options.token ? [createBearerTokenInterceptor(options.token)] : [])];
  const transportFor = (name: ServiceName): Transport => {
    const typeName = serviceDescriptors[name].typeName;
    const url = options.urls[name] ?? "";
    const remote = url === "" ? undefined : lazyTransport(() => {
      const sessionManager = new Http2SessionManager(url);
      sessions.push(sessionManager);
      return createGrpcTransport({ baseUrl: url, sessionManager, interceptors: remoteInterceptors });
    });
    const unavailable = unavailableTransport(`service ${name} does not run in this process and [services] ${name}_url is not set`);
    // Decided per call until the service is found here: it may be mounted after a first call.
    let local = false;
    const pick = (): Transport => {
      local ||= options.local().some((m) => m.service.typeName === typeName);
      return local ? inProcess : remote ?? unavailable;
    };
    return { unary: (...args) => pick().unary(...args), stream: (...args) => pick().stream(...args) };
  };
  const clients = Object.fromEntries(serviceNames.map((name) => [name, createClient(serviceDescriptors[name], transportFor(name))]));
  return {
    ...(clients as { [K in ServiceName]: Client<(typeof serviceDescriptors)[K]> }),
    close() {
      for (const s of sessions) s.abort();
    },
  };
}

/** A transport over the services mounted here, built again when more were mounted since. */
function transportPerMount(local: () => readonly MountedService[], build: (mounted: readonly MountedService[]) => Transport): Transport {
  let built: { transport: Transport; count: number } | undefined;
  const get = (): Transport => {
    const mounted = local();
    if (built === undefined || built.count !== mounted.length) built = { transport: build(mounted), count: mounted.length };
    return built.transport;
  };
  return {
    unary: (...args) => get().unary(...args),
    stream: (...args) => get().stream(...args),
  };
}

/** A transport built on its first call. */
function lazyTransport(build: () => Transport): Transport {
  let transport: Transport | undefined;
  const get = (): Transport => (transport ??= build());
  return {
    unary: (...args) => get().unary(...args),
    stream: (...args) => get().stream(...args),
  };
}

function unavailableTransport(message: string): Transport {
  const fail = (): Promise<never> => Promise.reject(new ConnectError(message, Code.Unavailable));
  return { unary: fail, stream: fail };
}
