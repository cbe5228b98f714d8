import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { GitAuthConfig } from "../../libs/config/config-types.js";
import { parseRepository } from "../../libs/git/git-url.js";
import { Secret } from "../../libs/secret/secret.js";
import { chooseGitAuth } from "./credentials.js";

const entry = (hosts: string[], allowPlaintext = false): GitAuthConfig => ({
  userId: "ci", password: new Secret("tok"), keyFilePath: "", privateKey: undefined, hosts, allowPlaintext,
});
const entries = {
  corp: entry(["git.corp.example", "git.corp.example:8080"]),
  lab: entry(["lab.example:8080"], true),
};

describe("choosing git credentials", () => {
  it("uses a named entry for one of its hosts", () => {
    assert.equal(chooseGitAuth(undefined, "corp", entries, "", parseRepository("https://git.corp.example/a.git"))?.username, "ci");
    assert.equal(chooseGitAuth(undefined, "corp", entries, "", parseRepository("git@git.corp.example:a.git"))?.username, "ci");
  });

  it("refuses a named entry for a host it does not list with permission denied", () => {
    assert.throws(() => chooseGitAuth(undefined, "corp", entries, "", parseRepository("https://evil.example/a.git")), {
      code: "permissionDenied",
      message: 'git auth "corp" is not sent to repository "https://evil.example/a.git": host "evil.example" is not in [git_auth.corp] hosts ("git.corp.example", "git.corp.example:8080")',
    });
  });

  it("refuses a named entry over plain http unless it allows plaintext", () => {
    assert.throws(() => chooseGitAuth(undefined, "corp", entries, "", parseRepository("http://git.corp.example:8080/a.git")), {
      code: "permissionDenied",
      message: 'git auth "corp" is not sent to repository "http://git.corp.example:8080/a.git": http:// sends it in clear; set [git_auth.corp] allow_plaintext = true to allow it',
    });
    assert.equal(chooseGitAuth(undefined, "lab", entries, "", parseRepository("http://lab.example:8080/a.git"))?.username, "ci");
  });

  it("refuses a named entry for a local repository", () => {
    assert.throws(() => chooseGitAuth(undefined, "corp", entries, "", parseRepository("/srv/repos/app")), {
      code: "permissionDenied",
      message: 'git auth "corp" is not sent to repository "/srv/repos/app": a local repository needs no credential',
    });
  });

  it("applies default_git_auth only to its hosts, and fetches anonymously elsewhere", () => {
    assert.equal(chooseGitAuth(undefined, "", entries, "corp", parseRepository("https://git.corp.example/a.git"))?.username, "ci");
    assert.equal(chooseGitAuth(undefined, "", entries, "corp", parseRepository("https://github.example/a.git")), undefined);
    assert.equal(chooseGitAuth(undefined, "", entries, "corp", parseRepository("git://git.corp.example/a.git")), undefined);
  });

  it("prefers the request's own credentials, whatever the host", () => {
    const own = { username: "me", password: new Secret("mine"), privateKey: undefined };
    assert.equal(chooseGitAuth(own, "corp", entries, "corp", parseRepository("http://anywhere.example/a.git"))?.username, "me");
  });
});
