/** The git hosts whose push webhooks buildplane understands. */
export type HookProvider = "github" | "gitlab" | "gitea" | "bitbucket";

/** One ref a push moved, in our terms. */
export interface PushedRef {
  /** Full ref name: `refs/heads/main`, `refs/tags/v1`. */
  readonly ref: string;
  /** 40-hex commit the ref points to now. */
  readonly commit: string;
}

/** A push event whatever host sent it. */
export interface PushEvent {
  readonly provider: HookProvider;
  /** Every URL the payload gives for the repository (clone, SSH, web). */
  readonly repositoryUrls: readonly string[];
  /** The repository's default branch when the payload names it ("" otherwise). */
  readonly defaultBranch: string;
  /** Refs moved to a commit; deleted refs are left out. */
  readonly refs: readonly PushedRef[];
}

/** What a webhook request is: a push, or another event that builds nothing (ping, issues…). */
export type HookEvent = { readonly kind: "push"; readonly push: PushEvent } | { readonly kind: "other"; readonly provider: HookProvider; readonly name: string };

/** A payload that is not the JSON its event promises. */
export class HookPayloadError extends Error {
  constructor(readonly provider: HookProvider, detail: string) {
    super(`${provider} push payload is not valid: ${detail}`);
    this.name = "HookPayloadError";
  }
}

const fullSha = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const zeroSha = /^0+$/;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Reads a push payload of `provider`'s shape (`name` is its event header's
 * value): GitHub and Gitea/Forgejo `push`, GitLab `Push Hook` and `Tag Push
 * Hook`, Bitbucket Cloud `repo:push` and Bitbucket Data Center
 * `repo:refs_changed`. Other events are `other`.
 */
export function parseHookEvent(provider: HookProvider, name: string, body: unknown): HookEvent {
  const p = obj(body);
  switch (provider) {
    case "github":
    case "gitea": {
      if (name !== "push") return { kind: "other", provider, name };
      const repo = obj(p["repository"]);
      const urls = ["clone_url", "ssh_url", "git_url", "html_url", "url"].map((k) => str(repo[k]));
      return push(provider, urls, str(repo["default_branch"]), p["deleted"] === true ? [] : [pushed(provider, str(p["ref"]), str(p["after"]))]);
    }
    case "gitlab": {
      if (name !== "Push Hook" && name !== "Tag Push Hook") return { kind: "other", provider, name };
      const project = obj(p["project"]);
      const repo = obj(p["repository"]);
      const urls = [str(project["git_http_url"]), str(project["git_ssh_url"]), str(project["web_url"]), str(repo["git_http_url"]), str(repo["git_ssh_url"]), str(repo["homepage"]), str(repo["url"])];
      return push(provider, urls, str(project["default_branch"]), [pushed(provider, str(p["ref"]), str(p["checkout_sha"]) || str(p["after"]))]);
    }
    case "bitbucket": {
      const repo = obj(p["repository"]);
      const links = obj(repo["links"]);
      if (name === "repo:push") {
        const fullName = str(repo["full_name"]);
        const urls = [str(obj(links["html"])["href"]), ...(fullName ? [`https://bitbucket.org/${fullName}.git`, `git@bitbucket.org:${fullName}.git`] : [])];
        const refs = arr(obj(p["push"])["changes"]).flatMap((c) => {
          const next = obj(obj(c)["new"]);
          if (Object.keys(next).length === 0) return [];
          const kind = str(next["type"]);
          const prefix = kind === "tag" ? "refs/tags/" : kind === "branch" || kind === "named_branch" ? "refs/heads/" : "";
          if (prefix === "") return [];
          return [pushed(provider, prefix + str(next["name"]), str(obj(next["target"])["hash"]))];
        });
        return push(provider, urls, str(obj(repo["mainbranch"])["name"]), refs);
      }
      if (name === "repo:refs_changed") {
        const urls = [...arr(links["clone"]).map((l) => str(obj(l)["href"])), ...arr(links["self"]).map((l) => str(obj(l)["href"]))];
        const refs = arr(p["changes"]).flatMap((c) => {
          const change = obj(c);
          if (str(change["type"]).toUpperCase() === "DELETE") return [];
          return [pushed(provider, str(obj(change["ref"])["id"]), str(change["toHash"]))];
        });
        return push(provider, urls, "", refs);
      }
      return { kind: "other", provider, name };
    }
  }
}

function push(provider: HookProvider, urls: readonly string[], defaultBranch: string, refs: readonly (PushedRef | undefined)[]): HookEvent {
  const repositoryUrls = [...new Set(urls.filter((u) => u !== ""))];
  if (repositoryUrls.length === 0) throw new HookPayloadError(provider, "it names no repository URL");
  return { kind: "push", push: { provider, repositoryUrls, defaultBranch, refs: refs.filter((r): r is PushedRef => r !== undefined) } };
}

/** A moved ref, or undefined for a deletion (the all-zero commit). */
function pushed(provider: HookProvider, ref: string, commit: string): PushedRef | undefined {
  if (commit === "" || zeroSha.test(commit)) return undefined;
  if (!ref.startsWith("refs/")) throw new HookPayloadError(provider, `ref "${ref}" is not a full ref name such as refs/heads/main`);
  if (!fullSha.test(commit)) throw new HookPayloadError(provider, `commit "${commit}" of ${ref} is not a full commit sha`);
  return { ref, commit };
}
