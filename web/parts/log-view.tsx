import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { LogLine } from "../../libs/gen/buildplane/v1/common_pb.js";
import { LogStream } from "../../libs/gen/buildplane/v1/common_pb.js";
import { describeError, isCanceled, isUnauthenticated } from "../api.js";
import { useSession } from "../session.js";

/** A build's log as far as it is known, and whether it can still grow. */
export interface FollowedLog {
  readonly lines: readonly LogLine[];
  readonly ended: boolean;
  readonly error: string | undefined;
}

const retryMs = 2000;

/**
 * Replays a build's log from its first line, then follows it live
 * (`StreamLogs` with follow) until the build is final; a dropped stream is
 * resumed after its last line, so nothing is shown twice or skipped.
 */
export function useFollowedLog(buildId: string): FollowedLog {
  const { api, lock } = useSession();
  const lines = useRef<LogLine[]>([]);
  const [, setCount] = useState(0);
  const [ended, setEnded] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    const ctrl = new AbortController();
    lines.current = [];
    setCount(0);
    setEnded(false);
    setError(undefined);
    const follow = async (): Promise<void> => {
      while (!ctrl.signal.aborted) {
        const fromSeq = (lines.current[lines.current.length - 1]?.seq ?? 0n) + 1n;
        try {
          for await (const res of api.metadata.streamLogs({ buildId, fromSeq, follow: true }, { signal: ctrl.signal })) {
            const last = lines.current[lines.current.length - 1]?.seq ?? 0n;
            const fresh = res.lines.filter((l) => l.seq > last);
            if (fresh.length > 0) {
              lines.current.push(...fresh);
              setCount(lines.current.length);
            }
            setError(undefined);
            if (res.finalStatus !== 0) {
              setEnded(true);
              return;
            }
          }
        } catch (err) {
          if (ctrl.signal.aborted || isCanceled(err)) return;
          if (isUnauthenticated(err)) return lock();
          setError(describeError(err));
        }
        await new Promise((r) => setTimeout(r, retryMs));
      }
    };
    void follow();
    return () => ctrl.abort();
  }, [buildId]);
  return { lines: lines.current, ended, error };
}

/**
 * The log in a box of fixed height, so streaming lines never move the rest of
 * the page; it keeps to the newest line while the reader is at the bottom and
 * stays put when they scrolled up. Focusable, so it scrolls by keyboard.
 */
export function LogView({ log }: { log: FollowedLog }) {
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [log.lines.length]);
  const onScroll = (): void => {
    const el = box.current;
    if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  };
  return (
    <div class="log" ref={box} onScroll={onScroll} tabIndex={0} role="log" aria-label="Build log" aria-live="off">
      {log.lines.length === 0 && <div class="muted">{log.ended ? "No log lines." : "Waiting for log lines…"}</div>}
      {log.lines.map((l) => (
        <div key={String(l.seq)} class={`line ${l.stream === LogStream.STDERR ? "stderr" : l.stream === LogStream.SYSTEM ? "system" : ""}`} data-seq={String(l.seq)}>
          <span class="seq" aria-hidden="true">
            {String(l.seq)}
          </span>
          <span class="text">{l.text}</span>
        </div>
      ))}
    </div>
  );
}

/** The last `Step n/m : …` line of the engine's output: the step a failed build stopped at. */
export function failingStep(lines: readonly LogLine[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const text = lines[i]?.text.trim() ?? "";
    if (/^(Step|STEP) \d+\/\d+ ?:/.test(text)) return text;
  }
  return undefined;
}
