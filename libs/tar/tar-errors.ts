import { DomainError } from "../errors/domain-error.js";

/** An archive entry that breaks a confinement rule or a limit; nothing is kept. */
export class TarEntryRejectedError extends DomainError {
  readonly entry: string;
  readonly rule: string;
  constructor(entry: string, rule: string) {
    super("invalidArgument", `tar entry "${entry}" is not allowed: ${rule}`);
    this.entry = entry;
    this.rule = rule;
  }
}

/** The archive is over its size or entry-count limit. */
export class TarLimitError extends DomainError {
  constructor(entry: string, what: string, limit: number) {
    super("invalidArgument", `tar entry "${entry}" is not allowed: the archive exceeds ${limit} ${what}`);
  }
}

/** The archive ended early or is not a tar at all. */
export class TarMalformedError extends DomainError {
  constructor(detail: string) {
    super("invalidArgument", `tar archive is not valid: ${detail}`);
  }
}

/** Extraction stopped because the caller cancelled; nothing is kept. */
export class TarCanceledError extends DomainError {
  constructor() {
    super("canceled", "tar extraction was cancelled");
  }
}
