import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HttpResponse } from "./http-request.js";
import { RedirectRefusedError, sendFollowingRedirects, type Hop } from "./redirects.js";

const answer = (status: number, location?: string): HttpResponse => ({ status, headers: location === undefined ? {} : { location }, body: Buffer.alloc(0) });

/** A fake server answering each URL from a table, recording every hop. */
function server(table: Record<string, HttpResponse>): { hops: Hop[]; send: (hop: Hop) => Promise<HttpResponse> } {
  const hops: Hop[] = [];
  return { hops, send: async (hop) => (hops.push(hop), table[hop.url.href] ?? answer(200)) };
}

const body = Buffer.from("manifest");
const first = (method: string, url: string) => ({ method, url: new URL(url), headers: { "content-type": "application/json", accept: "x" }, body });
const creds = { authorization: "Basic c2VjcmV0" };

describe("sendFollowingRedirects", () => {
  it("sends the credential only to its origin, also when a redirect comes back to it", async () => {
    const s = server({
      "https://reg.example.com/v2/a": answer(307, "https://storage.example.com/blob"),
      "https://storage.example.com/blob": answer(302, "https://reg.example.com/v2/b"),
    });
    await sendFollowingRedirects(first("GET", "https://reg.example.com/v2/a"), creds, "https://reg.example.com", s.send);
    assert.deepEqual(s.hops.map((h) => [h.url.href, h.headers.authorization, h.credentialed]), [
      ["https://reg.example.com/v2/a", creds.authorization, true],
      ["https://storage.example.com/blob", undefined, false],
      ["https://reg.example.com/v2/b", creds.authorization, true],
    ]);
  });

  it("treats another port or scheme of the same host as another origin", async () => {
    const s = server({ "http://reg.example.com:5000/v2/a": answer(307, "http://reg.example.com:5001/v2/a") });
    await sendFollowingRedirects(first("GET", "http://reg.example.com:5000/v2/a"), creds, "http://reg.example.com:5000", s.send);
    assert.deepEqual(s.hops.map((h) => h.headers.authorization), [creds.authorization, undefined]);
  });

  it("resends method and body on 307 and 308, and continues a 303 or a POST's 302 as a GET without body headers", async () => {
    const s = server({
      "https://r.io/put": answer(308, "/put2"),
      "https://r.io/post": answer(302, "/after"),
      "https://r.io/see": answer(303, "/other"),
    });
    await sendFollowingRedirects(first("PUT", "https://r.io/put"), {}, "https://r.io", s.send);
    await sendFollowingRedirects(first("POST", "https://r.io/post"), {}, "https://r.io", s.send);
    await sendFollowingRedirects(first("PUT", "https://r.io/see"), {}, "https://r.io", s.send);
    assert.deepEqual(s.hops.map((h) => [h.method, h.url.pathname, h.body === undefined ? "" : "body", Object.keys(h.headers).join(",")]), [
      ["PUT", "/put", "body", "content-type,accept"],
      ["PUT", "/put2", "body", "content-type,accept"],
      ["POST", "/post", "body", "content-type,accept"],
      ["GET", "/after", "", "accept"],
      ["PUT", "/see", "body", "content-type,accept"],
      ["GET", "/other", "", "accept"],
    ]);
  });

  it("refuses a redirect loop after five hops and a move from https to http, naming both ends", async () => {
    const loop = server({ "https://r.io/a": answer(307, "/a") });
    await assert.rejects(sendFollowingRedirects(first("GET", "https://r.io/a"), {}, "https://r.io", loop.send), (err: unknown) => {
      assert.ok(err instanceof RedirectRefusedError);
      assert.equal(err.message, "redirect from https://r.io/a to /a is not followed: more than 5 redirects");
      return true;
    });
    assert.equal(loop.hops.length, 6);
    const down = server({ "https://r.io/a": answer(301, "http://r.io/a") });
    await assert.rejects(sendFollowingRedirects(first("GET", "https://r.io/a"), creds, "https://r.io", down.send), (err: unknown) => {
      assert.ok(err instanceof RedirectRefusedError);
      assert.equal(err.message, "redirect from https://r.io/a to http://r.io/a is not followed: it leaves HTTPS for plain HTTP");
      return true;
    });
    assert.equal(down.hops.length, 1);
  });

  it("returns a 3xx without Location as the answer", async () => {
    const s = server({ "https://r.io/a": answer(304) });
    assert.equal((await sendFollowingRedirects(first("GET", "https://r.io/a"), {}, "https://r.io", s.send)).status, 304);
  });
});
