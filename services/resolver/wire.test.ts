import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, equals, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { BuildEventSchema, BuildSpecSchema, LogStream } from "../../libs/gen/buildplane/v1/common_pb.js";
import { Secret } from "../../libs/secret/secret.js";
import { eventBodyFromWire, imageSpecFromWire } from "./wire-in.js";
import { eventBodyToWire, imageSpecToWire } from "./wire-out.js";

/** The handler's codecs: what arrives becomes the resolver's types and goes back out unchanged. */
describe("resolver wire codecs", () => {
  const wireSpec = create(BuildSpecSchema, {
    appId: "app_wire_1",
    source: { repository: "https://bob:pa55word@example.com/acme/shop.git", ref: "v1.2", dir: "web", authName: "corp", credentials: { username: "bob", password: "s3cret-pw", privateKey: "-----KEY-----" } },
    containerfile: "web/Containerfile",
    args: [{ name: "MODE", value: "prod" }, { name: "TOKEN", value: "tok-123456", secret: true }],
    target: "runtime",
    platform: "linux/amd64",
    requester: "alice",
  });

  test("a spec round-trips to the same message, its secrets wrapped in between", () => {
    const spec = imageSpecFromWire(wireSpec);
    assert.ok(spec.args[1]?.value instanceof Secret);
    assert.equal(spec.args[0]?.value, "prod");
    assert.ok(spec.source?.credentials?.password instanceof Secret);
    const printed = JSON.stringify(spec);
    for (const secret of ["s3cret-pw", "-----KEY-----", "tok-123456"]) assert.equal(printed.includes(secret), false, `${secret} is not printed`);
    assert.deepEqual(toBinary(BuildSpecSchema, imageSpecToWire(spec)), toBinary(BuildSpecSchema, wireSpec));
  });

  test("a spec without a source or credentials keeps them unset", () => {
    const bare = create(BuildSpecSchema, { containerfile: "Containerfile", source: { repository: "/srv/app" } });
    assert.equal(imageSpecFromWire(create(BuildSpecSchema, {})).source, undefined);
    assert.equal(imageSpecFromWire(bare).source?.credentials, undefined);
    assert.ok(equals(BuildSpecSchema, imageSpecToWire(imageSpecFromWire(bare)), bare));
  });

  test("every event case round-trips", () => {
    const time = timestampFromDate(new Date("2026-12-05T10:00:00.123Z"));
    const cases: MessageInitShape<typeof BuildEventSchema>["event"][] = [
      { case: "queued", value: { position: 3 } },
      { case: "started", value: { image: { key: "k", name: "cli-a:1", reference: "r/cli-a:1" }, mode: "delegate", builderNode: "node-2", commit: "c1" } },
      { case: "log", value: { seq: 7n, stream: LogStream.STDERR, text: "step 1/3", time } },
      { case: "progress", value: { step: 1, totalSteps: 3, message: "RUN make", bytes: 4096n } },
      { case: "pushed", value: { reference: "r/cli-a:1", digest: "sha256:ab" } },
      { case: "ready", value: { image: "r/cli-a:1", digest: "sha256:ab", cached: true } },
      { case: "failed", value: { code: "unavailable", message: "builder away", logTail: ["a", "b"] } },
    ];
    for (const event of cases) {
      const wire = create(BuildEventSchema, { buildId: "b_1", event });
      const body = eventBodyFromWire(wire.event);
      assert.ok(body, `${wire.event.case} has a body`);
      assert.ok(equals(BuildEventSchema, create(BuildEventSchema, { buildId: "b_1", event: eventBodyToWire(body) }), wire), `${wire.event.case} round-trips`);
    }
    assert.equal(eventBodyFromWire({ case: undefined }), undefined);
  });
});
