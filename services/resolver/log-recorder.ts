import type { Client } from "@connectrpc/connect";
import type { LogLine } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";

/** Batches a build's log lines into `AppendLogs` calls. */
export interface LogRecorder {
  add(line: LogLine): void;
  /** Writes what is pending and waits for every write; rejects on the first failed one. */
  flush(): Promise<void>;
}

const maxBatch = 200;
const maxDelayMs = 100;

/**
 * Creates a recorder that appends lines in order, in batches of at most
 * 200 lines or 100 ms, one call at a time, so the stored log keeps the
 * order in which the build produced it.
 */
export function createLogRecorder(metadata: Client<typeof MetadataService>, buildId: string): LogRecorder {
  let pending: LogLine[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;

  const send = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    chain = chain.then(async () => {
      if (failure !== undefined) return;
      try {
        await metadata.appendLogs({ buildId, lines });
      } catch (err) {
        failure = err;
      }
    });
  };

  return {
    add(line) {
      pending.push(line);
      if (pending.length >= maxBatch) send();
      else timer ??= setTimeout(send, maxDelayMs);
    },
    async flush() {
      send();
      await chain;
      if (failure !== undefined) throw failure;
    },
  };
}
