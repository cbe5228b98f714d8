import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Secret } from "../secret/secret.js";
import { gitTempRoot, prepareGitEnv, type GitAuth } from "./git-auth.js";
import { parseRepository } from "./git-url.js";

const root = mkdtempSync(join(tmpdir(), "bp-git-auth-"));
after(() => rmSync(root, { recursive: true, force: true }));
const prepare = (url: string, auth?: GitAuth) => prepareGitEnv(parseRepository(url), auth, join(root, "known_hosts"), gitTempRoot(root));
const auth = (username: string, password: string): GitAuth => ({ username, password: new Secret(password), privateKey: undefined, keyFilePath: "" });

/** The GIT_CONFIG_KEY_n/VALUE_n pairs of an environment. */
function gitConfig(env: Readonly<Record<string, string>>): Array<[string, string]> {
  const n = Number(env["GIT_CONFIG_COUNT"]);
  return Array.from({ length: n }, (_, i) => [env[`GIT_CONFIG_KEY_${i}`] ?? "", env[`GIT_CONFIG_VALUE_${i}`] ?? ""]);
}

describe("git's environment for one operation", () => {
  it("scopes an http credential helper to the repository's own scheme, host and port, with the secret only in its variables", async () => {
    const p = await prepare("https://git.example.com:8443/org/app.git", auth("ci", "tok-91b2"));
    try {
      const config = gitConfig(p.env);
      assert.deepEqual(config.map(([k]) => k), ["credential.helper", "http.followRedirects", "credential.https://git.example.com:8443.helper"]);
      assert.equal(config.some(([, v]) => v.includes("tok-91b2")), false);
      assert.equal(p.env["BUILDPLANE_GIT_PASSWORD"], "tok-91b2");
      assert.equal(p.env["GIT_ASKPASS"], undefined, "no prompt helper that would answer any host");
    } finally {
      await p.cleanup();
    }
  });

  it("moves a password written in the url to the helper of that url's host", async () => {
    const p = await prepare("http://me:pw-77@127.0.0.1:9000/app.git");
    try {
      assert.equal(gitConfig(p.env).at(-1)?.[0], "credential.http://127.0.0.1:9000.helper");
      assert.equal(p.env["BUILDPLANE_GIT_USERNAME"], "me");
    } finally {
      await p.cleanup();
    }
  });

  it("gives git:// no credential at all", async () => {
    const p = await prepare("git://git.example.com/app.git", auth("ci", "tok-git-3f0a"));
    try {
      assert.equal(Object.values(p.env).some((v) => v.includes("tok-git-3f0a")), false);
    } finally {
      await p.cleanup();
    }
  });

  it("refuses a user name or password with a line break, which would add fields to git's credential answer", async () => {
    await assert.rejects(prepare("https://git.example.com/a.git", auth("ci\nhost=evil.example", "tok")), {
      code: "invalidArgument",
      message: 'git username "ci\nhost=evil.example" is not valid: expected a name without line breaks',
    });
    await assert.rejects(prepare("https://git.example.com/a.git", auth("ci", "tok\nhost=evil.example")), {
      code: "invalidArgument",
      message: "git password is not valid: expected a value without line breaks",
    });
  });
});
