import type { Scope } from "./scope-names.js";

/**
 * A method anyone may call (probes and tooling); a route that authenticates
 * each request by its own signature against a shared secret (`signed`: the
 * edge lets it through and the route checks it, refusing everything while
 * no secret is set); or the scopes of which a caller needs one.
 */
export type ScopeRule = "open" | "signed" | readonly Scope[];

/**
 * The one table of who may call what: every RPC of every service served on
 * the port, by fully qualified service name and method name, and every plain
 * HTTP route. A method missing here is refused to every credential
 * (`rpc-scopes.test.ts` fails when a mounted service has one), so a new RPC
 * is added here in the same change, e.g.
 * `ResolverService.EnsureImageFromContext: ["build"]`.
 *
 * The scopes:
 * - `read`: build records, logs, apps, the redacted config and a builder's
 *   status — what a dashboard or `buildplane builds --server` reads.
 * - `build`: EnsureImage, EnsureImageFromContext (a folder's context
 *   uploaded by the CLI) and ResolveImage, what `buildplane build --server`
 *   and OpenRun's prebuild call; it can make the server build and push.
 * - `admin`: apps writes and config validation (which reads server files to
 *   check them), kept from `build` so a CI token cannot delete apps.
 * - `node`: a builder node's Build, CancelBuild and HasImage (and
 *   GetStatus, so a main install can probe its nodes): the OpenRun
 *   `builder_auth_token` meaning. It can make a node build and push.
 * - `internal`: service to service — leases, build record writes, log
 *   appends, registry credentials (long-lived secrets), the install key
 *   that hashes secret build args, and the source
 *   service (it reads repositories with the server's git credentials).
 *   Never needed by a person.
 */
export const rpcScopes: Readonly<Record<string, Readonly<Record<string, ScopeRule>>>> = {
  "grpc.health.v1.Health": { Check: "open", Watch: "open", List: "open" },
  "grpc.reflection.v1.ServerReflection": { ServerReflectionInfo: "open" },
  "grpc.reflection.v1alpha.ServerReflection": { ServerReflectionInfo: "open" },
  "buildplane.v1.ConfigService": {
    GetConfig: ["read", "internal"],
    WatchConfig: ["read", "internal"],
    ValidateConfig: ["admin"],
    GetRegistryCredentials: ["internal"],
  },
  "buildplane.v1.MetadataService": {
    GetApp: ["read", "internal"],
    ListApps: ["read", "internal"],
    PutApp: ["admin"],
    DeleteApp: ["admin"],
    GetBuild: ["read", "internal"],
    ListBuilds: ["read", "internal"],
    StreamLogs: ["read", "internal"],
    CreateBuild: ["internal"],
    UpdateBuild: ["internal"],
    AppendLogs: ["internal"],
    AcquireLease: ["internal"],
    RenewLease: ["internal"],
    ReleaseLease: ["internal"],
    // The key that hashes secret build args: with it, short secrets could be brute-forced from image keys.
    GetInstallKey: ["internal"],
    // Garbage collection's writes and reads: through LifecycleService for people.
    MarkCollected: ["internal"],
    // Resolvers drop cached "exists" answers for what garbage collection deleted.
    WatchCollected: ["internal"],
    SetBuildPinned: ["internal"],
    ListHeldLeases: ["internal"],
  },
  "buildplane.v1.SourceService": {
    ResolveRevision: ["internal"],
    Describe: ["internal"],
    StreamContext: ["internal"],
  },
  "buildplane.v1.ResolverService": {
    ResolveImage: ["build", "internal"],
    EnsureImage: ["build"],
    EnsureImageFromContext: ["build"],
  },
  "buildplane.v1.BuilderService": {
    Build: ["node"],
    // A person with the admin token may stop a build from the web page.
    CancelBuild: ["node", "admin"],
    HasImage: ["node"],
    GetStatus: ["node", "read"],
  },
  "buildplane.v1.LifecycleService": {
    // It tries a push with the server's registry credentials (an upload opened and cancelled).
    CheckRegistry: ["build"],
    CollectGarbage: ["admin"],
    PinBuild: ["admin"],
  },
};

/**
 * Plain HTTP routes on the port (`METHOD /path`, `*` standing for one path
 * segment), e.g. OpenRun's delegate endpoint.
 */
export const httpRouteScopes: Readonly<Record<string, ScopeRule>> = {
  "POST /_openrun/delegate_build": ["node"],
  // OpenRun's node probe, open as gRPC health is: it says only that the node answers.
  "GET /_openrun/health": "open",
  "HEAD /_openrun/health": "open",
  // Push webhooks of GitHub, GitLab, Gitea/Forgejo and Bitbucket: each body is signed with
  // [hooks] secret (GitLab: the secret as a token); without a secret the route answers 404.
  "POST /hooks/git": "signed",
  // The web page (libs/web-site): static files holding no data; what it shows comes through the RPCs above.
  ...webPageRoutes(["/", "/builds/*", "/apps", "/pool", "/assets/*"]),
  // Prometheus' scrape: counters and durations, no image names or build ids, but still not for anyone.
  "GET /metrics": ["read"],
  "HEAD /metrics": ["read"],
};

function webPageRoutes(paths: readonly string[]): Record<string, ScopeRule> {
  return Object.fromEntries(paths.flatMap((p) => [[`GET ${p}`, "open"], [`HEAD ${p}`, "open"]]));
}

/** The `*` entries of `httpRouteScopes` as patterns, each `*` one non-empty path segment. */
const httpRoutePatterns = Object.entries(httpRouteScopes)
  .filter(([route]) => route.includes("*"))
  .map(([route, rule]) => ({ route, rule, pattern: new RegExp(`^${route.split("*").map(escapeRegExp).join("[^/]+")}$`) }));

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** What a request needs: an RPC (by its `/<service>/<method>` path) or an HTTP route. */
export interface RouteRule {
  /** `Service.Method` or `POST /path`, as errors name it. */
  readonly name: string;
  readonly rule: ScopeRule;
}

/**
 * The rule for a request path (query removed); a method of a known service
 * that the table lacks gets an empty rule, which no credential satisfies.
 * Undefined for a path of no known service or route: it still needs a valid
 * credential, and the RPC adapter answers it as unknown.
 */
export function ruleForRequest(method: string, path: string): RouteRule | undefined {
  const route = `${method.toUpperCase()} ${path}`;
  const http = httpRouteScopes[route];
  if (http !== undefined) return { name: route, rule: http };
  const pattern = httpRoutePatterns.find((p) => p.pattern.test(route));
  if (pattern !== undefined) return { name: pattern.route, rule: pattern.rule };
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m?.[1] || !m[2]) return undefined;
  const service = rpcScopes[m[1]];
  if (service === undefined) return undefined;
  const short = m[1].slice(m[1].lastIndexOf(".") + 1);
  // A method of a known service missing from the table is in no scope: refused to every credential.
  return { name: `${short}.${m[2]}`, rule: service[m[2]] ?? [] };
}
