import type { Client } from "@connectrpc/connect";
import type { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { parseReference } from "../../libs/image/reference.js";
import type { RegistryClient } from "../../libs/registry/registry-client.js";
import type { ImageLocator } from "./ports.js";
import { callFromWire } from "./wire-in.js";

export type { FoundIn, ImageLocator } from "./ports.js";

/** The registry check: one manifest HEAD through our client. */
export function createRegistryImageLocator(client: RegistryClient): ImageLocator {
  return {
    kind: "registry",
    async find(reference, signal) {
      const ref = parseReference(reference);
      const head = await client.headManifest(ref.path, ref.digest ?? ref.tag ?? "latest", signal);
      return head === undefined ? undefined : { digest: head.digest };
    },
  };
}

/**
 * Opens the registry check on first use (reading password and certificate
 * files then, not at start) and again after a failed open.
 */
export function createRegistryImageLocatorOnFirstUse(open: () => Promise<RegistryClient>): ImageLocator {
  let locator: Promise<ImageLocator> | undefined;
  return {
    kind: "registry",
    async find(reference, signal) {
      locator ??= open().then(createRegistryImageLocator);
      locator.catch(() => (locator = undefined));
      return (await locator).find(reference, signal);
    },
  };
}

/**
 * Without a registry images live in the builder's engine: asks the builder
 * service (`HasImage`), wherever it runs. Its digest is the repo digest when
 * the image came from a registry, else the image id. Its RPC errors become
 * `CallError`s.
 */
export function createBuilderImageLocator(builder: Pick<Client<typeof BuilderService>, "hasImage">): ImageLocator {
  return {
    kind: "engine",
    async find(reference, signal) {
      const res = await callFromWire(builder.hasImage({ reference }, signal ? { signal } : {}));
      return res.exists ? { digest: res.digest } : undefined;
    },
  };
}
