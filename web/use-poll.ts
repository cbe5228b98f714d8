import { useEffect, useState } from "preact/hooks";
import { describeError, isCanceled, isUnauthenticated } from "./api.js";
import { useSession } from "./session.js";

/** What a polled call shows: its last answer, or its last error. */
export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
}

/**
 * Calls `load` now and then every `everyMs` while the page shows it (live
 * updates without a watch RPC), again at once when `deps` change; the call
 * in flight is aborted when the page goes away. Unauthenticated answers send
 * the visitor back to the token form.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], everyMs = 2000): Polled<T> {
  const { lock } = useSession();
  const [state, setState] = useState<Polled<T>>({ data: undefined, error: undefined });
  useEffect(() => {
    const ctrl = new AbortController();
    let timer: number | undefined;
    setState({ data: undefined, error: undefined });
    const tick = async (): Promise<void> => {
      try {
        const data = await load(ctrl.signal);
        if (!ctrl.signal.aborted) setState({ data, error: undefined });
      } catch (err) {
        if (ctrl.signal.aborted || isCanceled(err)) return;
        if (isUnauthenticated(err)) return lock();
        setState((s) => ({ data: s.data, error: describeError(err) }));
      }
      if (!ctrl.signal.aborted && everyMs > 0) timer = window.setTimeout(() => void tick(), everyMs);
    };
    void tick();
    return () => {
      ctrl.abort();
      window.clearTimeout(timer);
    };
  }, deps);
  return state;
}
