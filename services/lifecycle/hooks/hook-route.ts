import { randomUUID } from "node:crypto";
import type { DualHandler } from "../../../libs/rpc/listeners.js";
import { createLogScrubber } from "../../../libs/secret/scrub.js";
import type { Secret } from "../../../libs/secret/secret.js";
import { appsForPush, type FollowedApp, type PrebuildTarget } from "./app-match.js";
import { detectProvider, HookSignatureError, verifyHookSignature } from "./hook-signature.js";
import { HookPayloadError, parseHookEvent, type HookProvider } from "./push-event.js";
import { HookBodyError, readHookBody } from "./read-hook-body.js";

/** The path push webhooks are posted to. */
export const hookPath = "/hooks/git";

/** What the webhook route needs. */
export interface HookRouteDeps<A extends FollowedApp> {
  /** `[hooks]` as it is now: the secret (undefined: route closed) and the body bounds. */
  settings(): { secret: Secret | undefined; maxBodyBytes: number; bodyTimeoutSecs: number };
  /** Every registered app. */
  listApps(signal: AbortSignal): Promise<readonly A[]>;
  /** Starts the build of an app at a commit and returns at once (deduplicated by the callee). */
  prebuild(target: PrebuildTarget<A>, requester: string): { started: boolean };
  log(message: string, fields: Record<string, unknown>): void;
}

/**
 * `POST /hooks/git`: a push from GitHub, GitLab, Gitea/Forgejo or Bitbucket
 * builds every registered app that follows the pushed repository and ref,
 * at the pushed commit, and answers 202 at once (the builds run on). The
 * body is bounded in size and time before the signature is checked; a
 * missing or wrong signature is 401 and builds nothing. Without
 * `[hooks] secret` the route answers 404. A failure behind the route (the
 * apps cannot be listed) answers 503 with a generic message naming an
 * incident; its detail goes to the server log only.
 */
export function createHookRoute<A extends FollowedApp>(deps: HookRouteDeps<A>): (next: DualHandler) => DualHandler {
  return (next) => (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== hookPath) return next(req, res);
    const answer = (status: number, body: Record<string, unknown>): void => {
      if (res.headersSent) return;
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST", "content-type": "application/json" });
      res.end(`${JSON.stringify({ error: `${req.method ?? ""} is not allowed on ${hookPath}: expected POST` })}\n`);
      return;
    }
    const settings = deps.settings();
    if (settings.secret === undefined || settings.secret.isEmpty) {
      req.resume();
      return answer(404, { error: "webhooks are not enabled on this server: set [hooks] secret" });
    }
    const secret = settings.secret;
    const source = detectProvider(req.headers);
    if (!source) {
      req.resume();
      return answer(400, { error: "not a push webhook of a known host: expected X-GitHub-Event, X-Gitlab-Event, X-Gitea-Event or X-Event-Key" });
    }
    void handle(source.provider, source.event).catch((err: unknown) => {
      if (err instanceof HookBodyError) return answer(err.status, { error: err.message });
      if (err instanceof HookSignatureError) {
        deps.log("webhook refused", { provider: source.provider, reason: err.message });
        return answer(401, { error: err.message });
      }
      if (err instanceof HookPayloadError) return answer(400, { error: err.message });
      // The detail (a service address, a database error) is for the server log only, without the hook secret.
      const incident = randomUUID().slice(0, 8);
      const detail = createLogScrubber([secret]).scrub(err instanceof Error ? err.message : String(err));
      deps.log("webhook failed", { provider: source.provider, incident, error: detail });
      return answer(503, { error: `the webhook could not be handled now: try again later (incident ${incident} in the server log)` });
    });

    async function handle(provider: HookProvider, event: string): Promise<void> {
      const body = await readHookBody(req, settings.maxBodyBytes, settings.bodyTimeoutSecs * 1000);
      verifyHookSignature(provider, req.headers, body, secret);
      const parsed = parseHookEvent(provider, event, decodePayload(provider, String(req.headers["content-type"] ?? ""), body));
      if (parsed.kind === "other") return answer(200, { provider, event: parsed.name, builds: [], message: `event "${parsed.name}" builds nothing` });
      const controller = new AbortController();
      const apps = await deps.listApps(controller.signal);
      const targets = appsForPush(parsed.push, apps);
      const builds = targets.map((t) => ({ app: t.app.id, ref: t.ref, commit: t.commit, started: deps.prebuild(t, `webhook:${provider}`).started }));
      deps.log("webhook push", { provider, refs: parsed.push.refs.map((r) => r.ref), builds: builds.map((b) => `${b.app}@${b.commit.slice(0, 12)}`) });
      if (builds.length === 0) {
        const refs = parsed.push.refs.map((r) => r.ref).join(", ") || "no ref";
        return answer(200, { provider, builds, message: `no registered app follows ${parsed.push.repositoryUrls[0] ?? ""} at ${refs}` });
      }
      answer(202, { provider, builds });
    }
  };
}

/** The JSON payload: the body, or GitHub's `payload=` form field when sent as a form. */
function decodePayload(provider: HookProvider, contentType: string, body: Buffer): unknown {
  let text = body.toString("utf8");
  if (contentType.toLowerCase().startsWith("application/x-www-form-urlencoded")) text = new URLSearchParams(text).get("payload") ?? "";
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HookPayloadError(provider, "the body is not JSON");
  }
}
