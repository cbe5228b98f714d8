import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";

/**
 * The interceptor pair of an in-process transport that hands the bytes
 * fields of streamed messages from caller to callee by reference: a build
 * context crossing the services of one process (source → resolver →
 * builder) is not serialized, enveloped, split and parsed — copied three
 * times, and left for the garbage collector — at every hop.
 *
 * The client side takes each top-level bytes field (a `chunk`) out of a
 * message before serialization, keeping it in the call's queue, and sends
 * the message with that field empty; the server side puts it back before
 * any other interceptor or the handler sees the message. Responses go the
 * other way. Both ends see every message of a stream in order, so each
 * message's bytes are its own; everything else — headers, trailers,
 * errors, deadlines, cancellation, flow — is still the router transport's.
 * A queue holds only the messages the transport holds in flight.
 */
export interface InProcessBytes {
  /** The transport's last (innermost) client interceptor. */
  readonly client: Interceptor;
  /** The router's first (outermost) interceptor. */
  readonly server: Interceptor;
  /** Calls whose queues are still kept: none once every call has ended. */
  calls(): number;
}

/** Names the call whose queues a request's messages belong to. Only ever set by `client`, on a transport that never leaves the process. */
const callHeader = "buildplane-in-process-bytes";

/** The bytes taken out of one message, by field. */
type Held = readonly (readonly [DescField, Uint8Array])[];

interface Call {
  readonly requests: Held[];
  readonly responses: Held[];
}

export function createInProcessBytes(): InProcessBytes {
  const calls = new Map<string, Call>();
  let seq = 0;
  return {
    client: (next) => async (req) => {
      if (!req.stream) return next(req);
      const id = String(++seq);
      const call: Call = { requests: [], responses: [] };
      // The call's signal is aborted once it ends, however it ends (connect's transports abort it on success too).
      const forget = (): void => void calls.delete(id);
      if (req.signal.aborted) return next(req);
      req.signal.addEventListener("abort", forget, { once: true });
      calls.set(id, call);
      req.header.set(callHeader, id);
      const res = await next({ ...req, message: takeAll(req.method.input, req.message, call.requests) });
      if (!res.stream) return res;
      return { ...res, message: putAll(req.method.output, res.message, call.responses) };
    },
    server: (next) => async (req) => {
      const id = req.header.get(callHeader);
      req.header.delete(callHeader);
      const call = id === null ? undefined : calls.get(id);
      if (!req.stream || call === undefined) return next(req);
      const res = await next({ ...req, message: putAll(req.method.input, req.message, call.requests) });
      if (!res.stream) return res;
      return { ...res, message: takeAll(req.method.output, res.message, call.responses) };
    },
    calls: () => calls.size,
  };
}

/** `messages` with their bytes fields emptied, the bytes pushed to `queue` (one entry per message). */
async function* takeAll<T extends object>(schema: DescMessage, messages: AsyncIterable<T>, queue: Held[]): AsyncGenerator<T> {
  const fields = bytesFields(schema);
  if (fields.length === 0) return yield* messages;
  for await (const m of messages) {
    const held: [DescField, Uint8Array][] = [];
    const copy: Record<string, unknown> = { ...(m as Record<string, unknown>) };
    for (const f of fields) {
      const value = read(copy, f);
      if (value === undefined || value.byteLength === 0) continue;
      held.push([f, value]);
      write(copy, f, empty);
    }
    queue.push(held);
    yield copy as T;
  }
}

/** `messages` with the bytes `takeAll` kept for each put back (a schema without bytes fields queues nothing). */
async function* putAll<T extends object>(schema: DescMessage, messages: AsyncIterable<T>, queue: Held[]): AsyncGenerator<T> {
  if (bytesFields(schema).length === 0) return yield* messages;
  for await (const m of messages) {
    const held = queue.shift();
    if (held === undefined) throw new Error(`in-process call: a ${schema.typeName} message arrived without the bytes its sender kept`);
    if (held.length === 0) {
      yield m;
      continue;
    }
    const copy: Record<string, unknown> = { ...(m as Record<string, unknown>) };
    for (const [f, value] of held) write(copy, f, value);
    yield copy as T;
  }
}

const empty = new Uint8Array(0);
const fieldsOf = new WeakMap<DescMessage, readonly DescField[]>();

/** The message's own bytes fields, oneof members included (not those of nested messages). */
function bytesFields(schema: DescMessage): readonly DescField[] {
  let fields = fieldsOf.get(schema);
  if (fields === undefined) {
    fields = schema.fields.filter((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.BYTES);
    fieldsOf.set(schema, fields);
  }
  return fields;
}

function read(m: Record<string, unknown>, f: DescField): Uint8Array | undefined {
  if (f.oneof === undefined) return m[f.localName] as Uint8Array | undefined;
  const o = m[f.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return o?.case === f.localName ? (o.value as Uint8Array) : undefined;
}

function write(m: Record<string, unknown>, f: DescField, value: Uint8Array): void {
  if (f.oneof === undefined) m[f.localName] = value;
  else m[f.oneof.localName] = { case: f.localName, value };
}
