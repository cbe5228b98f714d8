import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { startNode, type TestNode } from "../delegate/fixtures/start-node.js";

const token = `tok-${randomUUID()}`;
let node: TestNode;
let builder: Client<typeof BuilderService>;

before(async () => {
  node = await startNode({ token });
  builder = createClient(
    BuilderService,
    createGrpcTransport({ baseUrl: node.url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] }),
  );
});

after(async () => {
  await node?.stop();
});

test("HasImage on a node finds an image by its exact name", async () => {
  const found = await builder.hasImage({ reference: "local/busybox:1" });
  assert.equal(found.exists, true);
  assert.match(found.digest, /^sha256:/);
});

test("HasImage with a reference that smuggles a path and query reaches no other image or endpoint of the node's engine", async () => {
  const reference = "local/busybox:1/json?";
  await assert.rejects(builder.hasImage({ reference }), (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, Code.InvalidArgument);
    assert.equal(
      err.rawMessage,
      `inspect of image "${reference}" was refused by the container engine (http 400): no such image: ${reference}: invalid reference format`,
    );
    return true;
  });
});
