import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { BuildSpecSchema, type BuildSpec } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { computeImageKey, type ImageInputs } from "../../libs/image/image-key.js";
import { Secret } from "../../libs/secret/secret.js";
import { createImageResolver } from "../../services/resolver/resolve-image.js";
import { createSourcePort } from "../../services/resolver/source-port.js";
import { imageSpecFromWire } from "../../services/resolver/wire-in.js";
import { startMetadataHarness } from "../metadata/metadata-client.js";
import { testDialects, type TestDatabase } from "../metadata/test-databases.js";

const treeHash = randomBytes(20).toString("hex");
const secretValue = "hunter2";
// What an attacker tries against a published image key: common passwords, the real one among them.
const dictionary = ["123456", "password", "letmein", secretValue, "qwerty"];

const spec: BuildSpec = create(BuildSpecSchema, {
  appId: "app_sec_1",
  source: { repository: "https://example.com/acme/shop.git", ref: "main" },
  args: [{ name: "A", value: "1" }, { name: "TOKEN", value: secretValue, secret: true }],
});

/** The inputs the resolver hashes for `spec`, with `guess` as the secret: all an attacker knows or can read. */
const inputsWith = (guess: string): ImageInputs => ({
  appId: spec.appId,
  repository: spec.source?.repository ?? "",
  dir: "",
  treeHash,
  containerfile: "Containerfile",
  args: [{ name: "A", value: "1", secret: false }, { name: "TOKEN", value: new Secret(guess), secret: true }],
  target: "",
  platform: "",
});

/** The production resolver, asking the install key from a real metadata service; the source answers fixed values. */
function resolverOver(metadata: Client<typeof MetadataService>) {
  const sourceTransport = createRouterTransport((r) => {
    r.service(SourceService, { describe: () => ({ commit: "c".repeat(40), treeHash, containerfile: "Containerfile" }) });
  });
  return createImageResolver({
    source: createSourcePort(createClient(SourceService, sourceTransport)),
    registry: undefined,
    locator: { kind: "engine", find: async () => undefined },
    installKey: async (signal) => (await metadata.getInstallKey({}, signal ? { signal } : {})).key,
  });
}

for (const dialect of testDialects) {
  describe(`secret build args in image keys (${dialect.name})`, () => {
    const dbs: TestDatabase[] = [];
    before(async () => {
      for (let i = 0; i < 2; i++) dbs.push(await dialect.create());
    });
    after(async () => {
      for (const db of dbs) await db.drop();
    });
    const db = (i: number): string => dbs[i]?.dbConnection ?? "";

    it("keeps one random 32-byte install key, the same across restarts and for processes racing on a fresh database", async () => {
      const racers = await Promise.all([startMetadataHarness(db(0)), startMetadataHarness(db(0)), startMetadataHarness(db(0))]);
      const keys = await Promise.all(racers.map(async (h) => Buffer.from((await h.client.getInstallKey({})).key).toString("hex")));
      for (const h of racers) await h.close();
      assert.equal(keys[0]?.length, 64);
      assert.deepEqual(new Set(keys).size, 1, "every process got the key stored first");
      assert.notEqual(keys[0], "00".repeat(32));

      const restarted = await startMetadataHarness(db(0));
      try {
        assert.equal(Buffer.from((await restarted.client.getInstallKey({})).key).toString("hex"), keys[0]);
      } finally {
        await restarted.close();
      }
    });

    it("gives another install another key, so the same secret arg gives another image key", async () => {
      const one = await startMetadataHarness(db(0));
      const two = await startMetadataHarness(db(1));
      try {
        const k1 = (await one.client.getInstallKey({})).key;
        const k2 = (await two.client.getInstallKey({})).key;
        assert.notDeepEqual(k1, k2);
        const r1 = await resolverOver(one.client)(imageSpecFromWire(spec), undefined);
        const r2 = await resolverOver(two.client)(imageSpecFromWire(spec), undefined);
        assert.notEqual(r1.key, r2.key);
      } finally {
        await one.close();
        await two.close();
      }
    });

    it("hashes the secret arg with the install key: a dictionary finds it only with that key, never from the image key alone", async () => {
      const h = await startMetadataHarness(db(0));
      try {
        const resolved = await resolverOver(h.client)(imageSpecFromWire(spec), undefined);
        const published = [resolved.key, resolved.name.split(":")[1] ?? ""];
        assert.ok(!published.join(" ").includes(secretValue));

        // Without the install key: the old name-keyed scheme, an empty key, another install's key.
        const attackerKeys: Array<Uint8Array | undefined> = [undefined, new Uint8Array(32), randomBytes(32)];
        for (const key of attackerKeys) {
          for (const guess of dictionary) {
            const tried = key === undefined ? legacyKey(guess) : computeImageKey(inputsWith(guess), key);
            assert.notEqual(tried, resolved.key, `guess ${guess} matched without the install key`);
          }
        }
        const installKey = (await h.client.getInstallKey({})).key;
        const found = dictionary.filter((guess) => computeImageKey(inputsWith(guess), installKey) === resolved.key);
        assert.deepEqual(found, [secretValue], "the install key is the HMAC key of the secret arg");
      } finally {
        await h.close();
      }
    });
  });
}

/** The image key as it was computed with the arg's name as HMAC key (what a label used to expose to offline guessing). */
function legacyKey(guess: string): string {
  // Same inputs, written the way the earlier scheme did: name-keyed HMAC of the value.
  const values = ["buildplane-image-key-v1", "app", spec.appId, treeHash, "Containerfile", "", "", "2",
    "A", "plain:1", "TOKEN", `hmac-sha256:${createHmac("sha256", "TOKEN").update(guess).digest("hex")}`];
  const h = createHash("sha256");
  for (const v of values) h.update(v).update("\0");
  return h.digest("hex");
}
