import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ImageRemovedDuringBuildError, removedDuringBuild } from "./engine-errors.js";

const id = `sha256:${"4b94".repeat(16)}`;

describe("an image removed during a build", () => {
  test("is Docker's message for an image id its cache lookup could not read, or for a stage image gone before COPY --from", () => {
    assert.equal(removedDuringBuild(`unable to find image "${id}"`), id);
    assert.equal(removedDuringBuild(`unable to find image "${id}"\n`), id);
    assert.equal(removedDuringBuild(`invalid from flag value build: No such image: ${id}`), id);
  });

  test("is not a missing named image, a short id, or a message saying more", () => {
    assert.equal(removedDuringBuild('unable to find image "local/busybox:2"'), undefined);
    assert.equal(removedDuringBuild('unable to find image "sha256:4b94"'), undefined);
    assert.equal(removedDuringBuild("invalid from flag value nosuchimage:1: pull access denied for nosuchimage, repository does not exist"), undefined);
    assert.equal(removedDuringBuild(`The command '/bin/sh -c echo unable to find image "${id}"' returned a non-zero code: 1`), undefined);
  });

  test("is a conflict to retry, named as such", () => {
    const err = new ImageRemovedDuringBuildError("cli-web:11f1b518af11265c", id);
    assert.deepEqual([err.code, err.message], ["aborted", `build of "cli-web:11f1b518af11265c" was aborted: image ${id} was removed from the container engine during the build; the build can run again`]);
  });
});
