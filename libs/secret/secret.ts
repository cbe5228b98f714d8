import { inspect } from "node:util";

const REDACTED = "***";

/**
 * A credential that redacts itself: `String(secret)`, `JSON.stringify` and
 * `util.inspect` (and therefore console and pino) all print `***`. The value
 * is read with `unwrap()` only where a request header, a child environment
 * or a temporary 0600 file is built.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The clear value. Call only where the credential is handed to its consumer. */
  unwrap(): string {
    return this.#value;
  }

  /** True when the secret holds the empty string. */
  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

/** The text that stands for a secret in any output. */
export const redacted = REDACTED;

/** Wraps a possibly empty string: an empty value gives `undefined`. */
export function secretOrUndefined(value: string | undefined): Secret | undefined {
  return value === undefined || value === "" ? undefined : new Secret(value);
}
