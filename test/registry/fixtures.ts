import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { BlobSource } from "../../libs/registry/blob-upload.js";
import { mediaTypes } from "../../libs/registry/media-types.js";
import type { RegistryClientOptions } from "../../libs/registry/registry-options.js";
import { Secret } from "../../libs/secret/secret.js";
import type { TestRegistry } from "../helpers/start-registry.js";

/** A blob held in memory, readable by range like a spooled file. */
export function bufferBlob(bytes: Buffer): BlobSource {
  return {
    digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    size: bytes.length,
    open: (range) => Readable.from([range === undefined ? bytes : bytes.subarray(range.start, range.end + 1)]),
  };
}

/** Client options for a test registry; `overrides` change single fields. */
export function optionsFor(reg: TestRegistry, overrides: Partial<RegistryClientOptions> = {}): RegistryClientOptions {
  return {
    url: reg.host,
    insecure: false,
    type: "",
    username: reg.username,
    password: reg.password === "" ? undefined : new Secret(reg.password),
    caPem: reg.caPem,
    clientCertPem: "",
    clientKeyPem: undefined,
    awsRegion: "",
    ...overrides,
  };
}

/** A minimal OCI image manifest over one config and some layers. */
export function ociManifest(config: BlobSource, layers: readonly BlobSource[]): { mediaType: string; body: Buffer } {
  const body = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    config: { mediaType: mediaTypes.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: mediaTypes.ociLayer, digest: l.digest, size: l.size })),
  };
  return { mediaType: mediaTypes.ociManifest, body: Buffer.from(JSON.stringify(body)) };
}

/** Asserts shape for thrown errors without tying the test to a class import. */
export function errorWith(code: string, message: RegExp) {
  return (err: unknown): boolean => {
    const e = err as { code?: unknown; message?: unknown };
    if (e.code !== code) throw new Error(`expected code ${code}, got ${String(e.code)}: ${String(e.message)}`);
    if (typeof e.message !== "string" || !message.test(e.message)) throw new Error(`message ${String(e.message)} does not match ${String(message)}`);
    return true;
  };
}
