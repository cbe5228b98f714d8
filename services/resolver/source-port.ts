import type { Client } from "@connectrpc/connect";
import type { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import type { SourcePort } from "./ports.js";
import { callFromWire, streamFromWire } from "./wire-in.js";
import { sourceToWire } from "./wire-out.js";

/** The source port over the source service's generated client; its RPC errors become `CallError`s. */
export function createSourcePort(source: Pick<Client<typeof SourceService>, "describe" | "streamContext">): SourcePort {
  return {
    async describe(location, containerfile, signal) {
      const res = await callFromWire(source.describe({ source: location === undefined ? undefined : sourceToWire(location), containerfile }, { signal }));
      return { commit: res.commit, treeHash: res.treeHash, containerfile: res.containerfile };
    },
    async *streamContext(location, commit, containerfile, signal) {
      const chunks = source.streamContext({ source: location === undefined ? undefined : sourceToWire(location), commit, containerfile }, { signal });
      for await (const res of streamFromWire(chunks)) yield res.chunk;
    },
  };
}
