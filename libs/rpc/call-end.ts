import { Code, ConnectError, type Interceptor, type UnaryRequest, type StreamRequest } from "@connectrpc/connect";

/** Called when a call ends: `err` undefined for success, else the error it ended with. */
export type CallEnd = (err: unknown) => void;

/**
 * An interceptor that calls `onStart` as a call starts and the function it
 * returns once, as the call ends: for a response stream, when the stream
 * ends, fails, or its consumer stops reading. A call whose caller went away
 * (its signal aborted) ends `canceled`, even when the handler then returned
 * without an error.
 */
export function createCallEndInterceptor(onStart: (req: UnaryRequest | StreamRequest) => CallEnd): Interceptor {
  return (next) => async (req) => {
    const end = once(onStart(req));
    const onEnd: CallEnd = (err) => end(err === undefined && req.signal.aborted ? callerLeft() : err);
    let res;
    try {
      res = await next(req);
    } catch (err) {
      onEnd(err);
      throw err;
    }
    if (!res.stream) {
      onEnd(undefined);
      return res;
    }
    return { ...res, message: endingWith(res.message, onEnd) };
  };
}

async function* endingWith<T>(stream: AsyncIterable<T>, onEnd: CallEnd): AsyncIterable<T> {
  let ended = false;
  try {
    yield* stream;
    ended = true;
    onEnd(undefined);
  } catch (err) {
    ended = true;
    onEnd(err);
    throw err;
  } finally {
    // Only a consumer that stopped reading gets here without an end; the error (and its stack) is made only then.
    if (!ended) onEnd(callerLeft());
  }
}

function once(fn: CallEnd): CallEnd {
  let called = false;
  return (err) => {
    if (called) return;
    called = true;
    fn(err);
  };
}

function callerLeft(): ConnectError {
  return new ConnectError("the caller canceled the call", Code.Canceled);
}
