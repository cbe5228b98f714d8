import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "../../../libs/secret/secret.js";
import { bitbucketCloudPush, bitbucketPush, giteaPush, githubPush, gitlabPush } from "../../../test/lifecycle/hook-payloads.js";
import { appsForPush, refMatches, repositoryIdentity } from "./app-match.js";
import { detectProvider, HookSignatureError, verifyHookSignature } from "./hook-signature.js";
import { HookPayloadError, parseHookEvent, type PushEvent } from "./push-event.js";

const sha = "a".repeat(40);
const secret = new Secret("hook-secret-91c2");

function parse(fixture: { headers: Record<string, string>; body: string }): PushEvent {
  const source = detectProvider(fixture.headers);
  assert.ok(source);
  verifyHookSignature(source.provider, fixture.headers, Buffer.from(fixture.body), secret);
  const event = parseHookEvent(source.provider, source.event, JSON.parse(fixture.body));
  assert.equal(event.kind, "push");
  return event.kind === "push" ? event.push : assert.fail();
}

describe("webhook payloads", () => {
  it("reads GitHub, GitLab, Gitea and Bitbucket pushes into one shape", () => {
    const gh = parse(githubPush({ cloneUrl: "https://github.com/example/app.git", ref: "refs/heads/main", after: sha, secret: secret.unwrap() }));
    assert.equal(gh.provider, "github");
    assert.deepEqual(gh.refs, [{ ref: "refs/heads/main", commit: sha }]);
    assert.equal(gh.defaultBranch, "main");
    assert.ok(gh.repositoryUrls.includes("git@github.com:example/app.git"));
    const gl = parse(gitlabPush({ httpUrl: "https://gitlab.example/example/app.git", ref: "refs/heads/dev", after: sha, token: secret.unwrap() }));
    assert.equal(gl.provider, "gitlab");
    assert.deepEqual(gl.refs, [{ ref: "refs/heads/dev", commit: sha }]);
    const gt = parse(giteaPush({ cloneUrl: "https://gitea.example/example/app.git", ref: "refs/tags/v1.2", after: sha, secret: secret.unwrap() }));
    assert.equal(gt.provider, "gitea", "Gitea's own header wins over the GitHub one it also sends");
    assert.deepEqual(gt.refs, [{ ref: "refs/tags/v1.2", commit: sha }]);
    const bb = parse(bitbucketPush({ cloneUrl: "https://bitbucket.example/scm/ex/app.git", refId: "refs/heads/main", toHash: sha, secret: secret.unwrap() }));
    assert.equal(bb.provider, "bitbucket");
    assert.deepEqual(bb.refs, [{ ref: "refs/heads/main", commit: sha }]);
    const cloud = parse(bitbucketCloudPush({ htmlUrl: "https://bitbucket.org/example/app", branch: "main", hash: sha, secret: secret.unwrap() }));
    assert.equal(cloud.provider, "bitbucket");
    assert.deepEqual(cloud.refs, [{ ref: "refs/heads/main", commit: sha }], "the new side of the change, not the old one");
    assert.equal(cloud.defaultBranch, "main");
    assert.deepEqual(cloud.repositoryUrls, ["https://bitbucket.org/example/app", "https://bitbucket.org/example/app.git", "git@bitbucket.org:example/app.git"]);
  });

  it("leaves out deleted refs and reports other events as builds-nothing", () => {
    const deleted = githubPush({ cloneUrl: "https://github.com/example/app.git", ref: "refs/heads/gone", after: "0".repeat(40), deleted: true, secret: secret.unwrap() });
    assert.deepEqual(parse(deleted).refs, []);
    assert.deepEqual(parseHookEvent("github", "ping", { zen: "hi" }), { kind: "other", provider: "github", name: "ping" });
    assert.deepEqual(parseHookEvent("gitlab", "Merge Request Hook", {}), { kind: "other", provider: "gitlab", name: "Merge Request Hook" });
  });

  it("refuses a payload without a repository URL or with a short commit", () => {
    assert.throws(() => parseHookEvent("github", "push", { ref: "refs/heads/main", after: sha }), (e: unknown) => e instanceof HookPayloadError && e.message === "github push payload is not valid: it names no repository URL");
    assert.throws(
      () => parseHookEvent("gitea", "push", { ref: "refs/heads/main", after: "abc123", repository: { clone_url: "https://g/x.git" } }),
      (e: unknown) => e instanceof HookPayloadError && e.message === `gitea push payload is not valid: commit "abc123" of refs/heads/main is not a full commit sha`,
    );
  });
});

describe("webhook signatures", () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  const cases: { name: string; fixture: () => { headers: Record<string, string>; body: string }; message: string }[] = [
    { name: "GitHub without X-Hub-Signature-256", fixture: () => githubPush({ cloneUrl: "https://x/a.git", ref: "refs/heads/main", after: sha, signature: null }), message: "missing X-Hub-Signature-256" },
    { name: "GitHub signed with another secret", fixture: () => githubPush({ cloneUrl: "https://x/a.git", ref: "refs/heads/main", after: sha, secret: "other" }), message: "X-Hub-Signature-256 does not match the body signed with [hooks] secret" },
    { name: "GitHub with a malformed signature", fixture: () => githubPush({ cloneUrl: "https://x/a.git", ref: "refs/heads/main", after: sha, signature: "sha1=abc" }), message: `X-Hub-Signature-256 is not "sha256=" followed by 64 hex digits` },
    { name: "GitLab without a token", fixture: () => gitlabPush({ httpUrl: "https://x/a.git", ref: "refs/heads/main", after: sha, token: null }), message: "missing X-Gitlab-Token" },
    { name: "GitLab with a wrong token", fixture: () => gitlabPush({ httpUrl: "https://x/a.git", ref: "refs/heads/main", after: sha, token: "hook-secret-91c" }), message: "X-Gitlab-Token does not match [hooks] secret" },
    { name: "Gitea without a signature", fixture: () => giteaPush({ cloneUrl: "https://x/a.git", ref: "refs/heads/main", after: sha, signature: null }), message: "missing X-Gitea-Signature" },
    { name: "Gitea signed with another secret", fixture: () => giteaPush({ cloneUrl: "https://x/a.git", ref: "refs/heads/main", after: sha, secret: "other" }), message: "X-Gitea-Signature does not match the body signed with [hooks] secret" },
    { name: "Bitbucket signed with another secret", fixture: () => bitbucketPush({ cloneUrl: "https://x/a.git", refId: "refs/heads/main", toHash: sha, secret: "other" }), message: "X-Hub-Signature does not match the body signed with [hooks] secret" },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const f = c.fixture();
      const source = detectProvider(f.headers);
      assert.ok(source);
      assert.throws(() => verifyHookSignature(source.provider, f.headers, Buffer.from(f.body), secret), (e: unknown) => e instanceof HookSignatureError && e.message === c.message);
    });
  }

  it("refuses a body changed after signing", () => {
    const f = githubPush({ cloneUrl: "https://x/a.git", ref: "refs/heads/main", after: sha, secret: secret.unwrap() });
    assert.throws(() => verifyHookSignature("github", f.headers, Buffer.concat([Buffer.from(f.body), Buffer.from(" ")]), secret), HookSignatureError);
    assert.throws(() => verifyHookSignature("github", f.headers, body, secret), HookSignatureError);
  });
});

describe("which apps a push builds", () => {
  it("names a repository the same whatever its URL form", () => {
    for (const url of ["https://github.com/Example/App.git", "git@github.com:example/app.git", "ssh://git@github.com/example/app", "https://user:token@github.com/example/app/", "git://github.com/example/app.git"]) {
      assert.equal(repositoryIdentity(url), "github.com/example/app", url);
    }
    assert.equal(repositoryIdentity("http://127.0.0.1:8080/x/app.git"), "127.0.0.1:8080/x/app");
    assert.notEqual(repositoryIdentity("http://127.0.0.1:8080/x/app.git"), repositoryIdentity("http://127.0.0.1:9090/x/app.git"));
    assert.equal(repositoryIdentity("file:///tmp/repo"), "file:/tmp/repo");
    assert.equal(repositoryIdentity("/tmp/repo/.git"), "file:/tmp/repo");
    assert.equal(repositoryIdentity(""), "");
  });

  const table: [appRef: string, moved: string, expected: boolean][] = [
    ["main", "refs/heads/main", true],
    ["main", "refs/heads/main2", false],
    ["main", "refs/tags/main", true],
    ["", "refs/heads/main", true],
    ["", "refs/heads/dev", false],
    ["release/*", "refs/heads/release/1.2", true],
    ["release/*", "refs/heads/release/1.2/hotfix", false],
    ["release/**", "refs/heads/release/1.2/hotfix", true],
    ["refs/tags/v*", "refs/tags/v1.0", true],
    ["refs/tags/v*", "refs/heads/v1.0", false],
    ["v?.0", "refs/tags/v1.0", true],
    ["a.b", "refs/heads/aXb", false],
  ];
  for (const [appRef, moved, expected] of table) {
    it(`${JSON.stringify(appRef)} ${expected ? "follows" : "does not follow"} ${moved}`, () => {
      assert.equal(refMatches(appRef, { ref: moved, commit: sha }, "main"), expected);
    });
  }

  it("builds each following app once per commit and no other", () => {
    const push: PushEvent = { provider: "github", repositoryUrls: ["https://github.com/example/app.git", "git@github.com:example/app.git"], defaultBranch: "main", refs: [{ ref: "refs/heads/main", commit: sha }, { ref: "refs/tags/v1", commit: sha }] };
    const apps = [
      { id: "web", repository: "git@github.com:example/app.git", ref: "main" },
      { id: "tags", repository: "https://github.com/example/app", ref: "refs/tags/*" },
      { id: "any", repository: "https://github.com/example/app", ref: "**" },
      { id: "other-repo", repository: "https://github.com/example/other.git", ref: "main" },
      { id: "dev", repository: "https://github.com/example/app.git", ref: "dev" },
    ];
    assert.deepEqual(appsForPush(push, apps).map((t) => `${t.app.id}@${t.ref}`), ["web@refs/heads/main", "tags@refs/tags/v1", "any@refs/heads/main"]);
  });
});
