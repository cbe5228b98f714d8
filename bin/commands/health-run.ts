import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../libs/gen/grpc/health/v1/health_pb.js";
import { CliExit, exitCodes } from "./exit.js";
import { defaultHealthServer, serverEnvName, type HealthCommandIo, type HealthOptions } from "./health.js";
import { nameServerInFailure, serverToken, tokenInterceptors } from "./server-credential.js";

/**
 * `buildplane health`: prints `<server> <service>: <STATUS>` and sets exit
 * code 0 when SERVING, 1 for any other status; a server that cannot be
 * reached, answers an error or does not answer within the timeout ends
 * with 1 and a message naming it.
 */
export async function checkHealth(opts: HealthOptions, io: HealthCommandIo): Promise<void> {
  const url = serverUrl(opts.server ?? nonEmpty(io.env[serverEnvName]) ?? defaultHealthServer, opts.server === undefined ? `$${serverEnvName}` : "--server");
  const service = fullServiceName(opts.service);
  const interceptors = tokenInterceptors(serverToken(opts, io.env));
  const sessionManager = new Http2SessionManager(url.origin);
  const transport = createGrpcTransport({ baseUrl: url.href.replace(/\/$/, ""), sessionManager, interceptors });
  const shown = `${url.origin}${service === "" ? "" : ` ${service}`}`;
  try {
    const { status } = await createClient(Health, transport).check({ service }, { timeoutMs: opts.timeout * 1000 });
    io.out(`${shown}: ${ServingStatus[status] ?? `status ${status}`}\n`);
    if (status !== ServingStatus.SERVING) process.exitCode = exitCodes.failure;
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    if (err.code === Code.DeadlineExceeded) throw new CliExit(exitCodes.failure, `the buildplane server ${url.origin} did not answer within ${opts.timeout} s`);
    throw new CliExit(exitCodes.failure, nameServerInFailure(err, url.origin).rawMessage);
  } finally {
    sessionManager.abort();
  }
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === "" ? undefined : text.trim();
}

function serverUrl(text: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliExit(exitCodes.usage, `${from} "${text}" is not valid: expected a URL such as ${defaultHealthServer}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliExit(exitCodes.usage, `${from} "${text}" is not valid: expected an http:// or https:// URL such as ${defaultHealthServer}`);
  }
  return url;
}

/**
 * The gRPC names of the services by short name, as in `--services`. Written
 * out rather than read from the generated descriptors (libs/rpc/service-names.ts),
 * which would load every service's contract on each health probe; the test
 * checks both agree.
 */
export const healthServiceNames: Readonly<Record<string, string>> = {
  config: "buildplane.v1.ConfigService",
  metadata: "buildplane.v1.MetadataService",
  source: "buildplane.v1.SourceService",
  resolver: "buildplane.v1.ResolverService",
  builder: "buildplane.v1.BuilderService",
  lifecycle: "buildplane.v1.LifecycleService",
};

/** A short service name (`resolver`) as its gRPC name (`buildplane.v1.ResolverService`); a dotted name as is; none as "" (the whole server). */
function fullServiceName(name: string | undefined): string {
  if (name === undefined || name === "") return "";
  const known = Object.hasOwn(healthServiceNames, name) ? healthServiceNames[name] : undefined;
  if (known !== undefined) return known;
  if (/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/.test(name)) return name;
  throw new CliExit(exitCodes.usage, `--service "${name}" is not valid: expected ${Object.keys(healthServiceNames).join(", ")} or a full gRPC service name such as ${healthServiceNames["resolver"] ?? ""}`);
}
