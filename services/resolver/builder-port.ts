import type { Client } from "@connectrpc/connect";
import { buildHeader } from "../../libs/build/build-header.js";
import { checkCapabilities } from "../../libs/build/capability-check.js";
import type { BuildRequest, BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { registryTargetToWire } from "../../libs/registry/registry-target.js";
import type { BuilderPort, BuildOrder } from "./ports.js";
import { callFromWire, eventBodyFromWire, streamFromWire } from "./wire-in.js";
import { imageRefToWire, imageSpecToWire } from "./wire-out.js";

/** The builder port over the builder service's generated client; its RPC errors become `CallError`s. */
export function createBuilderPort(builder: Pick<Client<typeof BuilderService>, "getStatus" | "build">): BuilderPort {
  return {
    async checkServable(request, signal) {
      const status = await callFromWire(builder.getStatus({}, { signal }));
      if (!status.capabilities) return;
      checkCapabilities(status.mode, status.capabilities, request);
    },
    async *build(order, context, signal) {
      for await (const res of streamFromWire(builder.build(requestStream(order, context), { signal }))) {
        const body = res.event === undefined ? undefined : eventBodyFromWire(res.event.event);
        if (body !== undefined) yield body;
      }
    },
  };
}

/** The Build stream: the one header (libs/build/build-header.ts), then the context's non-empty chunks. */
async function* requestStream(order: BuildOrder, context: AsyncIterable<Uint8Array>): AsyncGenerator<BuildRequest> {
  const header = buildHeader({
    buildId: order.buildId,
    spec: imageSpecToWire(order.spec),
    image: imageRefToWire(order.image),
    commit: order.commit,
    containerfile: order.containerfile,
    registry: order.registry === undefined ? undefined : registryTargetToWire(order.registry),
    timeoutSecs: order.timeoutSecs,
  });
  yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "header", value: header } };
  for await (const chunk of context) {
    if (chunk.length > 0) yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "chunk", value: chunk } };
  }
}
