import { DomainError } from "../errors/domain-error.js";

/**
 * An image reference that does not follow the distribution reference
 * grammar. It names the reference and the part that was expected, so a user
 * can fix a typo in `registry.url` or a tag without reading the grammar.
 */
export class InvalidReferenceError extends DomainError {
  readonly reference: string;

  constructor(reference: string, expected: string) {
    super("invalidArgument", `image reference ${JSON.stringify(reference)} is not valid: ${expected}`);
    this.reference = reference;
  }
}

/**
 * A build input that cannot take part in an image key (a NUL byte, a build
 * arg given twice, a missing tree hash). It names the input.
 */
export class InvalidImageInputError extends DomainError {
  readonly input: string;

  constructor(input: string, message: string) {
    super("invalidArgument", message);
    this.input = input;
  }
}

/**
 * A secret build arg reached the image key without the install's key that
 * hashes it: the resolver was wired without one. It names the arg, never
 * its value.
 */
export class MissingInstallKeyError extends DomainError {
  readonly arg: string;

  constructor(arg: string) {
    super("failedPrecondition", `build arg ${JSON.stringify(arg)} is secret: expected the install key (from the metadata service) to hash it`);
    this.arg = arg;
  }
}
