import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { ConfigService } from "../gen/buildplane/v1/config_pb.js";
import { DomainError, type ErrorCode } from "../errors/domain-error.js";
import { connectCodeOf, createErrorInterceptor, diskFullMessage, toConnectError, withoutTransportHeaders } from "./errors.js";
import type { RpcLogger } from "./logger.js";
import { createFixtureConfigService } from "./test-fixtures.js";

function recordingLogger(): RpcLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), error: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`) };
}

function fixtureClient(log: RpcLogger, release?: Promise<void>) {
  const mounted = createFixtureConfigService({ release });
  const transport = createRouterTransport((router) => mounted.register(router), {
    router: { interceptors: [createErrorInterceptor(log)] },
  });
  return createClient(ConfigService, transport);
}

async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

describe("error mapping", () => {
  it("turns a domain error into its code with its message", async () => {
    const err = await rejection(fixtureClient(recordingLogger()).validateConfig({ fileName: "x.toml" }));
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, 'fixture "x.toml" does not exist: expected an existing fixture');
  });

  it("turns any other error into internal error and logs it on the server only", async () => {
    const log = recordingLogger();
    const err = await rejection(fixtureClient(log).getRegistryCredentials({}));
    assert.equal(err.code, Code.Internal);
    assert.equal(err.rawMessage, "internal error");
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0] ?? "", /ConfigService\/GetRegistryCredentials.*boom with a detail/);
  });

  it("maps an error thrown in the middle of a response stream", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const stream = fixtureClient(recordingLogger(), released).watchConfig({});
    const got: string[] = [];
    const err = await rejection((async () => {
      for await (const res of stream) {
        got.push(res.config?.sourceFile ?? "");
        release();
      }
    })());
    assert.deepEqual(got, ["fixture.toml"]);
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, 'fixture "after-stream" does not exist: expected an existing fixture');
  });

  it("passes a ConnectError through unchanged", () => {
    const original = new ConnectError("missing bearer token", Code.Unauthenticated);
    assert.equal(toConnectError(original, recordingLogger(), "x/Y"), original);
  });

  it("maps every domain error code to the Connect code of the same name", () => {
    const names: ErrorCode[] = ["canceled", "invalidArgument", "notFound", "failedPrecondition", "unavailable", "unauthenticated", "resourceExhausted"];
    for (const name of names) {
      const err = toConnectError(new DomainError(name, `a ${name} error`), recordingLogger(), "x/Y");
      assert.equal(err.code, connectCodeOf(name));
      assert.equal(Code[err.code].toLowerCase(), name.toLowerCase());
      assert.equal(err.rawMessage, `a ${name} error`);
    }
  });

  it("drops the protocol headers a relayed error carries, keeping application metadata such as retry-after", () => {
    const relayed = new ConnectError("internal error", Code.Internal, { "content-length": "46", "content-type": "application/json", "retry-after": "10" });
    const sent = withoutTransportHeaders(relayed);
    assert.deepEqual([...sent.metadata.entries()], [["retry-after", "10"]]);
    assert.equal(sent.code, Code.Internal);
    assert.equal(sent.rawMessage, "internal error");
    const clean = new ConnectError("x", Code.NotFound, { "retry-after": "1" });
    assert.equal(withoutTransportHeaders(clean), clean);
  });

  it("turns a full disk into resource_exhausted naming the data dir", () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", path: "/d/git/x" });
    const err = toConnectError(enospc, recordingLogger(), "p", { dataDir: "/d" });
    assert.equal(err.code, Code.ResourceExhausted);
    assert.equal(err.rawMessage, "the disk of the data dir /d ([system] data_dir) is full: no space left on device writing /d/git/x; free space there and retry");
    const git = new DomainError("unavailable", "git fetch failed: fatal: unable to write loose object file: No space left on device");
    assert.equal(diskFullMessage(git, undefined), "the disk is full: no space left on device (git fetch failed: fatal: unable to write loose object file: No space left on device); free space there and retry");
    assert.equal(diskFullMessage(new DomainError("invalidArgument", "no space left on device in the name"), "/d"), undefined);
    assert.equal(diskFullMessage(new Error("other"), "/d"), undefined);
  });
});
