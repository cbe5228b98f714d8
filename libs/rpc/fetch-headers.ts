/**
 * The Fetch standard's `Headers`, for the bundled CLI and server.
 *
 * Node defines the global `Headers` lazily: its first use loads all of
 * undici (fetch, WebSocket, EventSource…), about 25 ms of a process's
 * start, and connect makes a `Headers` on every call. The bundle
 * (bin/bundle.mjs) puts this class where its code names `Headers`, so a
 * command that never fetches never loads undici; code outside the bundle
 * keeps the platform's class.
 *
 * It behaves as the platform's does (fetch-headers.test.ts runs the same
 * cases against both): names are compared lowercased and must be HTTP
 * tokens, values lose leading and trailing HTTP whitespace and may not hold
 * NUL, CR or LF, both refused with a `TypeError`; values of one name join
 * with ", " except `set-cookie`'s; iteration is sorted by name.
 */
export class FetchHeaders {
  readonly #values = new Map<string, string[]>();

  constructor(init?: ConstructorParameters<typeof Headers>[0] | FetchHeaders) {
    if (init === undefined) return;
    if (typeof init !== "object" || init === null) throw new TypeError("Headers: the init argument must be a record, a sequence of pairs or a Headers object");
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<Iterable<string>>) {
        const [name, value, ...rest] = [...pair];
        if (name === undefined || value === undefined || rest.length > 0) throw new TypeError("Headers: each header of a sequence must be a [name, value] pair");
        this.append(name, value);
      }
      return;
    }
    for (const [name, value] of Object.entries(init as Record<string, string>)) this.append(name, value);
  }

  append(name: string, value: string): void {
    const key = headerName(name);
    const normalized = headerValue(value);
    const values = this.#values.get(key);
    if (values === undefined) this.#values.set(key, [normalized]);
    else values.push(normalized);
  }

  set(name: string, value: string): void {
    this.#values.set(headerName(name), [headerValue(value)]);
  }

  get(name: string): string | null {
    return this.#values.get(headerName(name))?.join(", ") ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#values.get("set-cookie") ?? [])];
  }

  has(name: string): boolean {
    return this.#values.has(headerName(name));
  }

  delete(name: string): void {
    this.#values.delete(headerName(name));
  }

  forEach(callback: (value: string, key: string, parent: FetchHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this) callback.call(thisArg, value, name, this);
  }

  *entries(): Generator<[string, string], undefined> {
    for (const name of [...this.#values.keys()].sort()) {
      const values = this.#values.get(name) ?? [];
      if (name === "set-cookie") for (const value of values) yield [name, value];
      else yield [name, values.join(", ")];
    }
  }

  *keys(): Generator<string, undefined> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): Generator<string, undefined> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): Generator<[string, string], undefined> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }
}

/** The name under which bin/bundle.mjs injects the class. */
export { FetchHeaders as Headers };

/** An HTTP token (RFC 9110 §5.6.2): what a field name may be. */
const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** HTTP whitespace at either end of a value, removed. */
const edgeWhitespace = /^[\t\n\r ]+|[\t\n\r ]+$/g;
/** What a value may not hold once trimmed: NUL, CR, LF, or what is not a byte. */
const forbidden = /[\0\r\n]|[^\0-\xff]/;

function headerName(name: string): string {
  const s = String(name);
  if (!token.test(s)) throw new TypeError(`Headers: ${JSON.stringify(s)} is not a valid header name`);
  return s.toLowerCase();
}

function headerValue(value: string): string {
  const s = String(value).replace(edgeWhitespace, "");
  if (forbidden.test(s)) throw new TypeError(`Headers: the value of a header may not contain NUL, CR, LF or characters past U+00FF`);
  return s;
}
