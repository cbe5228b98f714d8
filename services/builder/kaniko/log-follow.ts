import { Writable } from "node:stream";
import { Log, type KubeConfig } from "@kubernetes/client-node";

/** A followed pod log: `done` settles when the log ends; `tail` holds the last lines. */
export interface FollowedLog {
  readonly done: Promise<void>;
  tail(): string;
  stop(): void;
}

/**
 * Follows a container's log (`pods/log?follow=true`) and hands each line to
 * `onLine` as it arrives, keeping the last `tailLines` for a failure message.
 */
export async function followLog(kc: KubeConfig, namespace: string, pod: string, container: string,
  onLine: (line: string) => void, tailLines = 50): Promise<FollowedLog> {
  const last: string[] = [];
  let partial = "";
  const emit = (line: string) => {
    last.push(line);
    if (last.length > tailLines) last.shift();
    onLine(line);
  };
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => { finish = r; });
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = partial + chunk.toString("utf8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) emit(l.replace(/\r$/, ""));
      cb();
    },
    final(cb) {
      if (partial !== "") emit(partial);
      partial = "";
      cb();
      finish();
    },
  });
  sink.on("close", finish);
  sink.on("error", finish);
  const ac = await new Log(kc).log(namespace, pod, container, sink, { follow: true });
  return { done, tail: () => last.join("\n"), stop: () => { ac.abort(); finish(); } };
}
