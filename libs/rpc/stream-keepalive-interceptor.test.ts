import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { ResolverService } from "../gen/buildplane/v1/resolver_pb.js";
import { createStreamKeepAliveInterceptor, keepAliveStreams, withKeepAlive } from "./stream-keepalive-interceptor.js";

/** A gate the test opens once it has seen what it waits for; the source waits on it, so no timing decides the outcome. */
function gate(): { wait: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describe("withKeepAlive", () => {
  test("puts keep-alives between items while the source is quiet, and passes every item through in order", async () => {
    const quiet = gate();
    async function* source(): AsyncGenerator<string> {
      yield "a";
      await quiet.wait;
      yield "b";
    }
    const seen: string[] = [];
    for await (const item of withKeepAlive(source(), () => "keep-alive", 20)) {
      seen.push(item);
      if (seen.filter((s) => s === "keep-alive").length === 2) quiet.open();
    }
    assert.equal(seen[0], "a");
    assert.equal(seen.at(-1), "b");
    assert.deepEqual(seen.slice(1, -1).filter((s) => s !== "keep-alive"), [], "only keep-alives in between");
    assert.ok(seen.length >= 4);
  });

  test("ends the source when the consumer stops early", async () => {
    let finished = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finished = true;
      }
    }
    for await (const n of withKeepAlive(source(), () => -1, 60_000)) if (n === 2) break;
    assert.equal(finished, true);
  });
});

describe("the keep-alive interceptor", () => {
  const quietBuild = (quiet: { wait: Promise<void> }) =>
    createRouterTransport(
      (router) =>
        router.service(ResolverService, {
          async *ensureImage() {
            yield { event: { buildId: "b1", event: { case: "started", value: { mode: "command" } } } };
            await quiet.wait;
            yield { event: { buildId: "b1", event: { case: "ready", value: { image: "reg/app:1", cached: false } } } };
          },
        }),
      { router: { interceptors: [createStreamKeepAliveInterceptor(20)] } },
    );

  test("sends empty EnsureImage responses through a quiet build step, and a client that skips them sees the events alone", async () => {
    const quiet = gate();
    const client = createClient(ResolverService, quietBuild(quiet));
    const cases: string[] = [];
    let empty = 0;
    for await (const res of client.ensureImage({})) {
      if (!res.event) {
        if (++empty === 2) quiet.open();
        continue;
      }
      cases.push(res.event.event.case ?? "");
    }
    assert.ok(empty >= 2);
    assert.deepEqual(cases, ["started", "ready"]);
  });

  test("covers the build event and log streams", () => {
    assert.deepEqual([...keepAliveStreams].sort(), [
      "buildplane.v1.BuilderService/Build",
      "buildplane.v1.MetadataService/StreamLogs",
      "buildplane.v1.ResolverService/EnsureImage",
      "buildplane.v1.ResolverService/EnsureImageFromContext",
    ]);
  });

  test("sends none at 0 (stream_keepalive_secs = 0) or on a stream not listed", async () => {
    for (const interceptor of [createStreamKeepAliveInterceptor(0), createStreamKeepAliveInterceptor(20, new Set())]) {
      const quiet = gate();
      const transport = createRouterTransport(
        (router) =>
          router.service(ResolverService, {
            async *ensureImage() {
              yield { event: { buildId: "b1", event: { case: "started", value: { mode: "command" } } } };
              // Quiet until the client has read the first event; a keep-alive would come first.
              await quiet.wait;
              yield { event: { buildId: "b1", event: { case: "ready", value: { image: "reg/app:1", cached: false } } } };
            },
          }),
        { router: { interceptors: [interceptor] } },
      );
      const got: string[] = [];
      for await (const res of createClient(ResolverService, transport).ensureImage({})) {
        got.push(res.event?.event.case ?? "empty");
        quiet.open();
      }
      assert.deepEqual(got, ["started", "ready"]);
    }
  });
});
