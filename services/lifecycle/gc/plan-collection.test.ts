import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planCollection, repositoryOf, type GcBuild, type GcPlanInput } from "./plan-collection.js";

const day = 86_400_000;
const now = 100 * day;

function build(id: string, appId: string, image: string, ageDays: number, extra: Partial<GcBuild> = {}): GcBuild {
  return { id, appId, image, imageKey: `key-${image}`, digest: `sha256:${id}`, finishedAt: now - ageDays * day, pinned: false, ...extra };
}

function plan(succeeded: GcBuild[], over: Partial<GcPlanInput> = {}): { remove: string[]; held: string[] } {
  const p = planCollection({ succeeded, runningKeys: new Set(), leasedKeys: new Set(), keep: 2, olderThanMs: 0, now, ...over });
  return { remove: p.remove.map((i) => i.image), held: p.held.map((h) => `${h.image}:${h.reason}`) };
}

describe("planning a collection", () => {
  const web = [build("w1", "web", "r/cli-web:1", 5), build("w2", "web", "r/cli-web:2", 4), build("w3", "web", "r/cli-web:3", 3), build("w4", "web", "r/cli-web:4", 2)];
  const api = [build("a1", "api", "r/cli-api:1", 9), build("a2", "api", "r/cli-api:2", 1)];

  it("keeps the newest `keep` images of each app and removes the rest, oldest first", () => {
    assert.deepEqual(plan([...web, ...api]), { remove: ["r/cli-web:1", "r/cli-web:2"], held: [] });
    assert.deepEqual(plan([...web, ...api], { keep: 1 }), { remove: ["r/cli-api:1", "r/cli-web:1", "r/cli-web:2", "r/cli-web:3"], held: [] });
  });

  it("holds pinned images, images with a running build or a held lease, and young ones", () => {
    const pinned = web.map((b) => (b.id === "w1" ? { ...b, pinned: true } : b));
    assert.deepEqual(plan(pinned, { runningKeys: new Set(["key-r/cli-web:2"]) }), { remove: [], held: ["r/cli-web:1:pinned", "r/cli-web:2:running"] });
    assert.deepEqual(plan(web, { leasedKeys: new Set(["key-r/cli-web:1"]) }), { remove: ["r/cli-web:2"], held: ["r/cli-web:1:lease"] });
    assert.deepEqual(plan(web, { olderThanMs: 4.5 * day }), { remove: ["r/cli-web:1"], held: ["r/cli-web:2:young"] });
  });

  it("counts an image once however many builds made it, dated by its newest build, and pins it when any build is pinned", () => {
    const rebuilt = [...web, build("w1b", "web", "r/cli-web:1", 1), build("w2b", "web", "r/cli-web:2", 6, { pinned: true })];
    const p = planCollection({ succeeded: rebuilt, runningKeys: new Set(), leasedKeys: new Set(), keep: 2, olderThanMs: 0, now });
    assert.deepEqual(p.remove.map((i) => [i.image, [...i.buildIds]]), [["r/cli-web:3", ["w3"]]]);
    assert.deepEqual(p.held.map((h) => [h.image, h.reason, [...h.buildIds]]), [["r/cli-web:2", "pinned", ["w2", "w2b"]]]);
  });

  it("groups builds without an app by the image repository", () => {
    const loose = [build("l1", "", "r/cli-x:1", 3), build("l2", "", "r/cli-x:2", 2), build("m1", "", "r/cli-y:1", 3)];
    assert.deepEqual(plan(loose, { keep: 1 }), { remove: ["r/cli-x:1"], held: [] });
    assert.equal(repositoryOf("127.0.0.1:5000/team/cli-x:abc"), "127.0.0.1:5000/team/cli-x");
    assert.equal(repositoryOf("cli-x:abc"), "cli-x");
    assert.equal(repositoryOf("host:5000/cli-x@sha256:00"), "host:5000/cli-x");
  });
});
