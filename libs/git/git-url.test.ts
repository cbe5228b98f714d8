import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRepository, scrubUrl } from "./git-url.js";

const expected = "an https://, http://, git://, ssh://, file:// URL, user@host:path or a local path";

describe("repository strings", () => {
  const cases: Array<[string, string, string]> = [
    ["https://git.example.com/org/app.git", "https", "https://git.example.com/org/app.git"],
    ["http://127.0.0.1:8080/app.git", "http", "http://127.0.0.1:8080/app.git"],
    ["git://127.0.0.1:9418/app.git", "git", "git://127.0.0.1:9418/app.git"],
    ["ssh://git@git.example.com:2222/org/app.git", "ssh", "ssh://git@git.example.com:2222/org/app.git"],
    ["git@github.example.com:org/app.git", "ssh", "git@github.example.com:org/app.git"],
    ["file:///srv/repos/app.git", "file", "file:///srv/repos/app.git"],
    ["/srv/repos/app", "local", "/srv/repos/app"],
  ];
  for (const [input, transport, url] of cases) {
    it(`reads ${input} as ${transport}`, () => {
      const r = parseRepository(input);
      assert.equal(r.transport, transport);
      assert.equal(r.url, url);
    });
  }

  it("takes credentials out of an https URL and keeps them as secrets", () => {
    const r = parseRepository("https://ci:s3cr3t-token@git.example.com/org/app.git");
    assert.equal(r.url, "https://git.example.com/org/app.git");
    assert.equal(r.display.includes("s3cr3t"), false);
    assert.equal(r.urlUsername, "ci");
    assert.equal(r.urlPassword?.unwrap(), "s3cr3t-token");
    assert.equal(String(r.urlPassword), "***");
  });

  const bad: Array<[string, string]> = [
    ["", ""],
    ["--upload-pack=touch /tmp/x", "--upload-pack=touch /tmp/x"],
    ["ftp://host/app.git", "ftp://host/app.git"],
    ["https://user:pw@host/a\nb", "https://host/a\nb"],
    ["ext::sh -c touch% /tmp/pwned", "ext::sh -c touch% /tmp/pwned"],
    ["fd::3", "fd::3"],
    ["file:/etc/passwd", "file:/etc/passwd"],
    ["FILE:etc", "FILE:etc"],
    ["ssh://-oProxyCommand=touch%20x/app.git", "ssh://-oProxyCommand=touch%20x/app.git"],
    ["git@-oProxyCommand=x:app.git", "git@-oProxyCommand=x:app.git"],
  ];
  for (const [input, shown] of bad) {
    it(`refuses ${JSON.stringify(input)} with invalid argument, never showing a password`, () => {
      assert.throws(() => parseRepository(input), { code: "invalidArgument", message: `repository "${shown}" is not valid: expected ${expected}` });
    });
  }

  it("scrubs user and password from every URL in a text", () => {
    assert.equal(scrubUrl("fatal: unable to access 'https://ci:tok@host/r.git/': 401"), "fatal: unable to access 'https://host/r.git/': 401");
  });
});
