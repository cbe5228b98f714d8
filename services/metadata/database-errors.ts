import type { ServiceImpl } from "@connectrpc/connect";
import type { DescService } from "@bufbuild/protobuf";
import { isDatabaseUnavailable } from "../../libs/db/errors.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { MetadataUnavailableError } from "./errors.js";
import type { MetadataDeps } from "./metadata-deps.js";

/**
 * Wraps every handler of `impl` so that a database that is away (a cut
 * connection, a statement timeout, a busy SQLite file) reaches callers as
 * `unavailable` naming the database, which writers retry, instead of an
 * unclassified internal error.
 */
export function withDatabaseErrors<S extends DescService>(deps: MetadataDeps, impl: ServiceImpl<S>): ServiceImpl<S> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl as Record<string, (...args: unknown[]) => unknown>)) {
    wrapped[name] = (...args: unknown[]): unknown => {
      const out = fn(...args);
      if (isAsyncIterable(out)) return mapStream(deps, out);
      return Promise.resolve(out).catch((err: unknown) => {
        throw classify(deps, err);
      });
    };
  }
  return wrapped as ServiceImpl<S>;
}

async function* mapStream<T>(deps: MetadataDeps, it: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* it;
  } catch (err) {
    throw classify(deps, err);
  }
}

/** A database error as `MetadataUnavailableError`; a domain error already says what went wrong and stays as it is. */
function classify(deps: MetadataDeps, err: unknown): unknown {
  if (err instanceof DomainError || !isDatabaseUnavailable(err)) return err;
  let target = "";
  try {
    target = deps.database().describe;
  } catch {
    target = "(closed)";
  }
  return new MetadataUnavailableError(target, err instanceof Error ? err.message : String(err));
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === "object" && v !== null && Symbol.asyncIterator in v && !(v instanceof Promise);
}
