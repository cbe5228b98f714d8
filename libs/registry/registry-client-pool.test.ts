import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "../secret/secret.js";
import { createRegistryClient } from "./registry-client.js";
import { createRegistryClientPool, registryClientKey } from "./registry-client-pool.js";
import type { RegistryClientOptions } from "./registry-options.js";

const base: RegistryClientOptions = {
  url: "registry.example:5000/team", insecure: false, type: "", username: "ci", password: new Secret("pool-secret-1"),
  caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: "",
};

/** A pool whose clients are real (no I/O until used) and record when they close. */
function recordingPool(maxClients: number) {
  const made: string[] = [];
  const closed: string[] = [];
  const pool = createRegistryClientPool({
    maxClients,
    create: (options) => {
      const client = createRegistryClient(options);
      made.push(options.url);
      return { ...client, close: () => { closed.push(options.url); client.close(); } };
    },
  });
  return { pool, made, closed };
}

describe("registry client pool", () => {
  it("keys on host, scheme policy, type, region, user and a fingerprint of the secrets, never the secrets themselves", () => {
    const key = registryClientKey(base);
    assert.equal(registryClientKey({ ...base, url: "registry.example:5000/other" }), key);
    assert.equal(registryClientKey({ ...base, password: new Secret("pool-secret-1") }), key);
    for (const other of [{ url: "registry.example:5001" }, { insecure: true }, { type: "ecr" as const }, { awsRegion: "eu-west-1" }, { username: "cd" },
      { password: new Secret("pool-secret-2") }, { caPem: "ca" }, { clientKeyPem: new Secret("key") }]) {
      assert.notEqual(registryClientKey({ ...base, ...other }), key, JSON.stringify(Object.keys(other)));
    }
    assert.ok(!key.includes("pool-secret-1"));
  });

  it("reuses one client per destination and closes them all on close", async () => {
    const { pool, made, closed } = recordingPool(8);
    const first = await pool.use(base, async (c) => c);
    const second = await pool.use({ ...base }, async (c) => c);
    assert.equal(first, second);
    await pool.use({ ...base, url: "other.example" }, async () => undefined);
    assert.deepEqual(made, [base.url, "other.example"]);
    pool.close();
    assert.deepEqual(closed.sort(), [base.url, "other.example"].sort());
  });

  it("retires the least recently used client past maxClients, closing it only once its call ended", async () => {
    const { pool, made, closed } = recordingPool(1);
    let release = (): void => undefined;
    const busy = pool.use(base, () => new Promise<void>((resolve) => { release = resolve; }));
    await pool.use({ ...base, url: "other.example" }, async () => undefined);
    assert.deepEqual(closed, [], "a client in use is not closed under its caller");
    release();
    await busy;
    assert.deepEqual(closed, [base.url]);
    await pool.use(base, async () => undefined);
    assert.deepEqual(made, [base.url, "other.example", base.url]);
    pool.close();
  });
});
