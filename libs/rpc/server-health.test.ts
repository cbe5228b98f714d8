import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHealthRegistry, type HealthStatus } from "./health-registry.js";
import { createServerHealth } from "./server-health.js";

const config = "buildplane.v1.ConfigService";
const metadata = "buildplane.v1.MetadataService";

function setup() {
  const registry = createHealthRegistry();
  const serverHealth = createServerHealth(registry, [config, metadata]);
  const changes: Array<[string, HealthStatus]> = [];
  registry.subscribe((service, status) => changes.push([service, status]));
  return { registry, serverHealth, changes };
}

describe("server health", () => {
  it("reports nothing before the server listens", () => {
    const { registry } = setup();
    registry.set(metadata, "notServing");
    assert.equal(registry.get(""), undefined);
  });

  it("reports the server and its silent services as serving once it listens", () => {
    const { registry, serverHealth } = setup();
    serverHealth.start();
    assert.deepEqual(Object.fromEntries(registry.list()), { [config]: "serving", [metadata]: "serving", "": "serving" });
  });

  it("reports the server as not serving while a mounted service is not serving", () => {
    const { registry, serverHealth } = setup();
    registry.set(metadata, "notServing");
    serverHealth.start();
    assert.equal(registry.get(config), "serving");
    assert.equal(registry.get(metadata), "notServing");
    assert.equal(registry.get(""), "notServing");
  });

  it("follows a mounted service that stops and starts serving", () => {
    const { registry, serverHealth, changes } = setup();
    serverHealth.start();
    changes.length = 0;
    registry.set(metadata, "notServing");
    registry.set(metadata, "serving");
    assert.deepEqual(changes, [
      [metadata, "notServing"],
      ["", "notServing"],
      [metadata, "serving"],
      ["", "serving"],
    ]);
  });

  it("ignores services that are not mounted on this server", () => {
    const { registry, serverHealth } = setup();
    serverHealth.start();
    registry.set("buildplane.v1.BuilderService", "notServing");
    assert.equal(registry.get(""), "serving");
  });

  it("reports everything as not serving once stopped, whatever the services report after", () => {
    const { registry, serverHealth } = setup();
    serverHealth.start();
    serverHealth.stop();
    assert.deepEqual(Object.fromEntries(registry.list()), { [config]: "notServing", [metadata]: "notServing", "": "notServing" });
    registry.set(metadata, "serving");
    assert.equal(registry.get(""), "notServing");
  });
});
