import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";

type Handler = (input: unknown, context: unknown) => unknown;

/**
 * An implementation of `service` that is made when it is first called:
 * every handler awaits `implementation()` and hands its request to the
 * handler of that name. For a service that a process may never call and
 * whose code and resources cost something, as the metadata service's query
 * builder and database do in a one-shot command whose image already exists.
 * `implementation` is called on every call, so it should keep its promise.
 */
export function lazyServiceImpl<T extends DescService>(service: T, implementation: () => Promise<ServiceImpl<T>>): ServiceImpl<T> {
  const handlerOf = async (name: string): Promise<Handler> => {
    const impl = (await implementation()) as unknown as Record<string, Handler>;
    const handler = impl[name];
    if (handler === undefined) throw new Error(`${service.typeName} has no handler for ${name}`);
    return handler.bind(impl);
  };
  const handlers: Record<string, Handler> = {};
  for (const method of service.methods) {
    const name = method.localName;
    handlers[name] =
      method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming"
        ? async function* (input, context) {
            yield* (await handlerOf(name))(input, context) as AsyncIterable<unknown>;
          }
        : async (input, context) => (await handlerOf(name))(input, context);
  }
  return handlers as unknown as ServiceImpl<T>;
}
