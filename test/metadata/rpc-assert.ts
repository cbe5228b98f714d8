import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";

/** Asserts that `promise` fails with exactly this RPC code and message. */
export async function expectRpcError(promise: Promise<unknown>, code: Code, message: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${String(err)}`);
    assert.equal(Code[err.code], Code[code]);
    assert.equal(err.rawMessage, message);
    return true;
  });
}
