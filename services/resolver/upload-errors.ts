import { DomainError } from "../../libs/errors/domain-error.js";

/** An EnsureImageFromContext call whose first message or header is not what the protocol expects. */
export class UploadHeaderError extends DomainError {
  constructor(readonly field: string, message: string) {
    super("invalidArgument", message);
  }
}

/** The uploaded context is larger than `[builder] max_upload_bytes`. */
export class UploadTooLargeError extends DomainError {
  constructor(readonly limitBytes: number) {
    super(
      "resourceExhausted",
      `uploaded build context is larger than builder.max_upload_bytes (${limitBytes} bytes): shrink the context (.dockerignore) or raise the limit`,
    );
  }
}

/** The upload did not end within `[builder] upload_timeout_secs`. */
export class UploadTimeoutError extends DomainError {
  constructor(readonly limitSecs: number) {
    super("deadlineExceeded", `build context upload did not finish within builder.upload_timeout_secs (${limitSecs} s): send a smaller context or raise the limit`);
  }
}

/** An entry of the uploaded tar that a folder's context cannot hold. */
export class UploadEntryError extends DomainError {
  constructor(readonly entry: string, rule: string) {
    super("invalidArgument", `uploaded context entry ${JSON.stringify(entry)} is not allowed: ${rule}`);
  }
}

/** The uploaded entries do not hash to the tree hash the header named the image with. */
export class UploadHashMismatchError extends DomainError {
  constructor(readonly claimed: string, readonly computed: string) {
    super(
      "invalidArgument",
      `uploaded context hashes to ${computed}, not to the header's tree_hash ${claimed}: expected the hash of the uploaded entries (did the folder change during the upload?)`,
    );
  }
}

/** The caller went away, or stopped sending, before the upload ended. */
export class UploadCanceledError extends DomainError {
  constructor() {
    super("canceled", "build context upload was canceled by the caller before it ended");
  }
}
