import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostEntryMatches, parseHostEntry, repositoryHost } from "./git-host.js";
import { parseRepository } from "./git-url.js";

describe("repository hosts", () => {
  const hosts: Array<[string, string, number, boolean]> = [
    ["https://Git.Example.com/org/app.git", "git.example.com", 443, false],
    ["https://git.example.com:8443/org/app.git", "git.example.com", 8443, false],
    ["http://127.0.0.1:8080/app.git", "127.0.0.1", 8080, true],
    ["git://git.example.com/app.git", "git.example.com", 9418, true],
    ["ssh://git@git.example.com:2222/app.git", "git.example.com", 2222, false],
    ["git@github.example.com:org/app.git", "github.example.com", 22, false],
    ["http://[::1]:8080/app.git", "[::1]", 8080, true],
  ];
  for (const [url, host, port, plaintext] of hosts) {
    it(`reads ${url} as ${host} port ${port}${plaintext ? ", in clear" : ""}`, () => {
      const h = repositoryHost(parseRepository(url));
      assert.equal(h?.host, host);
      assert.equal(h?.port, port);
      assert.equal(h?.plaintext, plaintext);
    });
  }

  it("has no host for a local path or a file:// url", () => {
    assert.equal(repositoryHost(parseRepository("/srv/repos/app")), undefined);
    assert.equal(repositoryHost(parseRepository("file:///srv/repos/app")), undefined);
  });

  const matches: Array<[string, string, boolean]> = [
    ["git.example.com", "https://git.example.com/a.git", true],
    ["GIT.example.com", "git@git.example.com:a.git", true],
    ["git.example.com", "https://git.example.com:8443/a.git", false],
    ["git.example.com:8443", "https://git.example.com:8443/a.git", true],
    ["git.example.com:443", "https://git.example.com/a.git", true],
    ["git.example.com", "https://git.example.com.evil.test/a.git", false],
    ["example.com", "https://git.example.com/a.git", false],
    ["127.0.0.1:8080", "http://127.0.0.1:9090/a.git", false],
    ["[::1]:8080", "http://[::1]:8080/a.git", true],
  ];
  for (const [entry, url, expected] of matches) {
    it(`${expected ? "matches" : "does not match"} ${url} with hosts entry ${entry}`, () => {
      const repo = parseRepository(url);
      const target = repositoryHost(repo);
      assert.ok(target);
      assert.equal(hostEntryMatches(entry, target, repo.transport), expected);
    });
  }

  it("accepts host and host:port entries only", () => {
    assert.deepEqual(parseHostEntry("git.example.com:8443"), { host: "git.example.com", port: 8443 });
    assert.deepEqual(parseHostEntry("[::1]"), { host: "[::1]", port: undefined });
    for (const bad of ["https://git.example.com", "git.example.com/org", "*.example.com", "h:0", "h:65536", "", "user@host"]) {
      assert.equal(parseHostEntry(bad), undefined, bad);
    }
  });
});
