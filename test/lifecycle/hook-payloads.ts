import { createHmac } from "node:crypto";

/**
 * Push payloads in the shapes GitHub, GitLab, Gitea/Forgejo and Bitbucket
 * send (the fields buildplane reads, with their neighbours as the hosts
 * send them), and the headers that sign them.
 */
export interface PushFixture {
  readonly headers: Record<string, string>;
  readonly body: string;
}

const zero = "0000000000000000000000000000000000000000";

/** GitHub's `push` event, signed with X-Hub-Signature-256 (and the legacy SHA-1 header GitHub also sends). */
export function githubPush(o: { cloneUrl: string; ref: string; before?: string; after: string; secret?: string; signature?: string | null; deleted?: boolean }): PushFixture {
  const body = JSON.stringify({
    ref: o.ref,
    before: o.before ?? zero,
    after: o.after,
    created: false,
    deleted: o.deleted ?? false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/example/app/compare/${(o.before ?? zero).slice(0, 12)}...${o.after.slice(0, 12)}`,
    commits: [{ id: o.after, tree_id: "0".repeat(40), distinct: true, message: "change", timestamp: "2026-12-05T12:00:00Z", url: `https://github.com/example/app/commit/${o.after}`, author: { name: "A", email: "a@example.test", username: "a" }, committer: { name: "A", email: "a@example.test", username: "a" }, added: [], removed: [], modified: ["app/name.txt"] }],
    head_commit: { id: o.after, message: "change" },
    repository: {
      id: 1296269,
      node_id: "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
      name: "app",
      full_name: "example/app",
      private: false,
      owner: { name: "example", login: "example", id: 1 },
      html_url: "https://github.com/example/app",
      url: "https://github.com/example/app",
      git_url: "git://github.com/example/app.git",
      ssh_url: "git@github.com:example/app.git",
      clone_url: o.cloneUrl,
      default_branch: "main",
      master_branch: "main",
    },
    pusher: { name: "a", email: "a@example.test" },
    sender: { login: "a", id: 1, type: "User" },
  });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/3f9b6e2",
    "x-github-event": "push",
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "x-github-hook-id": "12345",
  };
  const signature = o.signature === undefined ? `sha256=${hmac(o.secret ?? "", body)}` : o.signature;
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  headers["x-hub-signature"] = `sha1=${createHmac("sha1", o.secret ?? "").update(body).digest("hex")}`;
  return { headers, body };
}

/** GitLab's `Push Hook`, authenticated by X-Gitlab-Token. */
export function gitlabPush(o: { httpUrl: string; ref: string; after: string; token?: string | null }): PushFixture {
  const body = JSON.stringify({
    object_kind: "push",
    event_name: "push",
    before: zero,
    after: o.after,
    ref: o.ref,
    ref_protected: true,
    checkout_sha: o.after,
    user_id: 4,
    user_name: "John Smith",
    user_username: "jsmith",
    project_id: 15,
    project: {
      id: 15,
      name: "app",
      web_url: "https://gitlab.example/example/app",
      git_ssh_url: "git@gitlab.example:example/app.git",
      git_http_url: o.httpUrl,
      namespace: "example",
      path_with_namespace: "example/app",
      default_branch: "main",
    },
    commits: [{ id: o.after, message: "change", timestamp: "2026-12-05T12:00:00+00:00", author: { name: "J", email: "j@example.test" }, added: [], modified: ["app/name.txt"], removed: [] }],
    total_commits_count: 1,
    repository: { name: "app", url: "git@gitlab.example:example/app.git", homepage: "https://gitlab.example/example/app", git_http_url: o.httpUrl, git_ssh_url: "git@gitlab.example:example/app.git" },
  });
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "GitLab/17.6.0", "x-gitlab-event": "Push Hook", "x-gitlab-instance": "https://gitlab.example", "x-gitlab-event-uuid": "13792a34-cac6-4fda-95a8-c58e00a3954e" };
  if (o.token !== null && o.token !== undefined) headers["x-gitlab-token"] = o.token;
  return { headers, body };
}

/** Gitea's (and Forgejo's) `push`, signed with X-Gitea-Signature; Gitea also sends GitHub's event header. */
export function giteaPush(o: { cloneUrl: string; ref: string; after: string; secret?: string; signature?: string | null }): PushFixture {
  const body = JSON.stringify({
    ref: o.ref,
    before: zero,
    after: o.after,
    compare_url: "",
    commits: [{ id: o.after, message: "change\n", url: `https://gitea.example/example/app/commit/${o.after}`, author: { name: "g", email: "g@example.test", username: "g" }, committer: { name: "g", email: "g@example.test", username: "g" }, timestamp: "2026-12-05T12:00:00Z", added: [], removed: [], modified: ["app/name.txt"] }],
    total_commits: 1,
    head_commit: { id: o.after, message: "change\n" },
    repository: {
      id: 1,
      owner: { id: 1, login: "example", username: "example" },
      name: "app",
      full_name: "example/app",
      private: false,
      html_url: "https://gitea.example/example/app",
      ssh_url: "git@gitea.example:example/app.git",
      clone_url: o.cloneUrl,
      default_branch: "main",
    },
    pusher: { id: 1, login: "g", username: "g" },
    sender: { id: 1, login: "g", username: "g" },
  });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-gitea-event": "push",
    "x-gitea-event-type": "push",
    "x-gitea-delivery": "f6266f16-1bf3-46a5-9ea4-602e06ead473",
    "x-github-event": "push",
    "x-gogs-event": "push",
  };
  const signature = o.signature === undefined ? hmac(o.secret ?? "", body) : o.signature;
  if (signature !== null) {
    headers["x-gitea-signature"] = signature;
    headers["x-gogs-signature"] = signature;
  }
  return { headers, body };
}

/**
 * Bitbucket Cloud's `repo:push`, signed with X-Hub-Signature (`sha256=<hex>`).
 * `htmlUrl` stands where Bitbucket puts the repository's page
 * (`https://bitbucket.org/<workspace>/<repo>`).
 */
export function bitbucketCloudPush(o: { htmlUrl: string; branch: string; hash: string; secret?: string; signature?: string | null }): PushFixture {
  const repository = {
    type: "repository",
    full_name: "example/app",
    name: "app",
    uuid: "{5a0a6f3e-4c1b-4d6a-9a57-3c5f7b2a9e11}",
    is_private: true,
    scm: "git",
    links: { self: { href: "https://api.bitbucket.org/2.0/repositories/example/app" }, html: { href: o.htmlUrl }, avatar: { href: "https://bytebucket.org/ravatar/app" } },
    owner: { type: "user", display_name: "Example", uuid: "{d301aafa-d676-4ee0-88be-962be7417567}", nickname: "example" },
    workspace: { type: "workspace", slug: "example", name: "Example", uuid: "{d301aafa-d676-4ee0-88be-962be7417567}" },
    project: { type: "project", key: "EX", name: "example", uuid: "{0e2a8c3d-54a2-4f37-b1fa-47d4c9e1e0a4}" },
    mainbranch: { type: "branch", name: "main" },
  };
  const target = (hash: string) => ({
    type: "commit",
    hash,
    date: "2026-12-05T12:00:00+00:00",
    message: "change\n",
    author: { type: "author", raw: "A <a@example.test>" },
    parents: [{ type: "commit", hash: "1".repeat(40) }],
    links: { html: { href: `https://bitbucket.org/example/app/commits/${hash}` } },
  });
  const body = JSON.stringify({
    push: {
      changes: [
        {
          old: { type: "branch", name: o.branch, target: target("1".repeat(40)) },
          new: { type: "branch", name: o.branch, target: target(o.hash) },
          created: false,
          closed: false,
          forced: false,
          truncated: false,
          commits: [target(o.hash)],
          links: { html: { href: `https://bitbucket.org/example/app/branches/compare/${o.hash}..${"1".repeat(40)}` } },
        },
      ],
    },
    actor: { type: "user", display_name: "A", uuid: "{a1b2c3d4-0000-4000-8000-000000000001}", nickname: "a" },
    repository,
  });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "Bitbucket-Webhooks/2.0",
    "x-event-key": "repo:push",
    "x-hook-uuid": "0b3c1a6e-2f4d-4c8e-9a1b-7d5e6f8a9b0c",
    "x-request-uuid": "6b1c6d3e-8f2a-4b5c-9d0e-1f2a3b4c5d6e",
    "x-attempt-number": "1",
  };
  const signature = o.signature === undefined ? `sha256=${hmac(o.secret ?? "", body)}` : o.signature;
  if (signature !== null) headers["x-hub-signature"] = signature;
  return { headers, body };
}

/** Bitbucket Data Center's `repo:refs_changed`, signed with X-Hub-Signature. */
export function bitbucketPush(o: { cloneUrl: string; refId: string; toHash: string; secret: string }): PushFixture {
  const body = JSON.stringify({
    eventKey: "repo:refs_changed",
    date: "2026-12-05T12:00:00+0000",
    actor: { name: "admin", emailAddress: "admin@example.test", id: 1, displayName: "Admin", slug: "admin", type: "NORMAL" },
    repository: {
      slug: "app",
      id: 84,
      name: "app",
      scmId: "git",
      state: "AVAILABLE",
      project: { key: "EX", id: 84, name: "example", type: "NORMAL" },
      links: { clone: [{ href: o.cloneUrl, name: "http" }, { href: "ssh://git@bitbucket.example:7999/ex/app.git", name: "ssh" }], self: [{ href: "https://bitbucket.example/projects/EX/repos/app/browse" }] },
    },
    changes: [{ ref: { id: o.refId, displayId: o.refId.replace(/^refs\/(heads|tags)\//, ""), type: "BRANCH" }, refId: o.refId, fromHash: zero.replace(/0/g, "1"), toHash: o.toHash, type: "UPDATE" }],
  });
  return { headers: { "content-type": "application/json; charset=utf-8", "x-event-key": "repo:refs_changed", "x-request-id": "a1b2", "x-hub-signature": `sha256=${hmac(o.secret, body)}` }, body };
}

function hmac(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}
