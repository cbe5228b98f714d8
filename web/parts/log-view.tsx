import { memo } from "preact/compat";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { LogLine } from "../../libs/gen/buildplane/v1/common_pb.js";
import { LogStream } from "../../libs/gen/buildplane/v1/common_pb.js";
import { describeError, isCanceled, isNotFound, isUnauthenticated } from "../api.js";
import { useSession } from "../session.js";

/** A build's log as far as it is known, and whether it can still grow. */
export interface FollowedLog {
  /** The lines in runs of `chunkLines`: a full run keeps its identity, so only the last one is drawn again. */
  readonly chunks: readonly (readonly LogLine[])[];
  readonly count: number;
  readonly ended: boolean;
  readonly error: string | undefined;
}

const retryMs = 2000;
const chunkLines = 500;

/**
 * Replays a build's log from its first line, then follows it live
 * (`StreamLogs` with follow) until the build is final; a dropped stream is
 * resumed after its last line, so nothing is shown twice or skipped.
 */
export function useFollowedLog(buildId: string): FollowedLog {
  const { api, lock } = useSession();
  const chunks = useRef<LogLine[][]>([]);
  const lastSeq = useRef(0n);
  const [count, setCount] = useState(0);
  const [ended, setEnded] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    const ctrl = new AbortController();
    chunks.current = [];
    lastSeq.current = 0n;
    let total = 0;
    setCount(0);
    setEnded(false);
    setError(undefined);
    const follow = async (): Promise<void> => {
      while (!ctrl.signal.aborted) {
        try {
          for await (const res of api.metadata.streamLogs({ buildId, fromSeq: lastSeq.current + 1n, follow: true }, { signal: ctrl.signal })) {
            const fresh = res.lines.filter((l) => l.seq > lastSeq.current);
            if (fresh.length > 0) {
              append(chunks.current, fresh);
              lastSeq.current = fresh[fresh.length - 1]?.seq ?? lastSeq.current;
              total += fresh.length;
              setCount(total);
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
          if (isNotFound(err)) return;
        }
        await new Promise((r) => setTimeout(r, retryMs));
      }
    };
    void follow();
    return () => ctrl.abort();
  }, [buildId]);
  return { chunks: chunks.current, count, ended, error };
}

/** Adds `lines` to the runs: the last run is replaced (a new array), full ones stay as they are. */
function append(chunks: LogLine[][], lines: readonly LogLine[]): void {
  let rest = lines;
  while (rest.length > 0) {
    const last = chunks[chunks.length - 1];
    if (last === undefined || last.length >= chunkLines) {
      chunks.push(rest.slice(0, chunkLines));
      rest = rest.slice(chunkLines);
      continue;
    }
    const room = chunkLines - last.length;
    chunks[chunks.length - 1] = [...last, ...rest.slice(0, room)];
    rest = rest.slice(room);
  }
}

/** Every line, in order. */
export function allLines(log: FollowedLog): LogLine[] {
  return log.chunks.flat();
}

const LogChunk = memo(function LogChunk({ lines }: { lines: readonly LogLine[] }) {
  return (
    <>
      {lines.map((l) => (
        <div key={String(l.seq)} class={`line ${l.stream === LogStream.STDERR ? "stderr" : l.stream === LogStream.SYSTEM ? "system" : ""}`} data-seq={String(l.seq)}>
          <span class="seq" aria-hidden="true">
            {String(l.seq)}
          </span>
          <span class="text">{l.text}</span>
        </div>
      ))}
    </>
  );
});

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
  }, [log.count]);
  const onScroll = (): void => {
    const el = box.current;
    if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  };
  return (
    <div class="log" ref={box} onScroll={onScroll} tabIndex={0} role="log" aria-label="Build log" aria-live="off">
      {log.count === 0 && <div class="muted">{log.ended ? "No log lines." : "Waiting for log lines…"}</div>}
      {log.chunks.map((c, i) => (
        <LogChunk key={i} lines={c} />
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
