import type { DescMessage, DescService, MessageShape } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import type { GitSource } from "../../libs/gen/buildplane/v1/common_pb.js";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import type { LocalRootsPolicy } from "./local-roots.js";

type SourceOf = (message: unknown) => GitSource | undefined;

const direct: SourceOf = (m) => (m as { source?: GitSource }).source;
const inSpec: SourceOf = (m) => (m as { spec?: { source?: GitSource } }).spec?.source;
/**
 * An upload carries its context, never a repository (its handler refuses a
 * header naming one), and its stream must not be read ahead here: the
 * guard would hold the whole upload in memory.
 */
const noRepository = "none";

/**
 * Every RPC that takes a repository from its caller, and where the
 * repository is in its request. An RPC of these services missing here is a
 * test failure, so a new one cannot skip the guard.
 */
export const repositoryFields: ReadonlyMap<DescService, Readonly<Record<string, SourceOf | typeof noRepository>>> = new Map<
  DescService,
  Record<string, SourceOf | typeof noRepository>
>([
  [SourceService, { ResolveRevision: direct, Describe: direct, StreamContext: direct }],
  [ResolverService, { ResolveImage: inSpec, EnsureImage: inSpec, EnsureImageFromContext: noRepository }],
]);

/**
 * A server interceptor for calls arriving over the network: a repository
 * that is a server path or `file://` URL must lie under `[source]
 * local_roots`, else the call ends with `PermissionDenied` before any work.
 * Each service mounts its own: the source service, and the resolver, which
 * reaches the source service in-process (where this guard does not run). In-process callers —
 * the CLI without `--server` — are not limited.
 */
export function createRepositoryNetworkGuard(policy: LocalRootsPolicy, service: typeof SourceService | typeof ResolverService): Interceptor {
  const methods = repositoryFields.get(service) ?? {};
  const check = async (pick: SourceOf, message: unknown) => {
    const repository = pick(message)?.repository ?? "";
    // An empty repository is the handler's invalid argument to report.
    if (repository.trim() !== "") await policy.check(repository);
  };
  return (next) => async (req) => {
    const pick = req.service.typeName === service.typeName ? methods[req.method.name] : undefined;
    if (pick === undefined || pick === noRepository) return next(req);
    if (!req.stream) {
      await check(pick, req.message);
      return next(req);
    }
    // Server-streaming requests carry one message: read it, check it, pass it on.
    const messages: MessageShape<DescMessage>[] = [];
    for await (const m of req.message) messages.push(m);
    for (const m of messages) await check(pick, m);
    return next({ ...req, message: createAsyncIterable(messages) });
  };
}
