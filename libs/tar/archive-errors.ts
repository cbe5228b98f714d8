import { DomainError } from "../errors/domain-error.js";

/** How an entry name is shown in messages: quoted, with control bytes escaped. */
export function shownName(name: string): string {
  return JSON.stringify(name);
}

/**
 * An archive entry that breaks a confinement rule (a name escaping the
 * context, a link pointing out, a device, a set-uid bit…). The message names
 * the entry and the rule: `archive entry "a/../../x": path escapes the context`.
 */
export class ArchiveEntryError extends DomainError {
  readonly entry: string;
  readonly rule: string;
  constructor(entry: string, rule: string) {
    super("invalidArgument", `archive entry ${shownName(entry)}: ${rule}`);
    this.entry = entry;
    this.rule = rule;
  }
}

/** The archive goes over one of its limits (bytes, entries, path length, record size). */
export class ArchiveLimitError extends DomainError {
  readonly entry: string;
  constructor(entry: string, what: string) {
    super("resourceExhausted", `archive entry ${shownName(entry)}: ${what}`);
    this.entry = entry;
  }
}

/** The bytes are not a tar archive, or it ends in the middle of an entry. */
export class ArchiveMalformedError extends DomainError {
  constructor(detail: string) {
    super("invalidArgument", `archive is not a valid tar: ${detail}`);
  }
}

/** Reading or extracting the archive stopped because the caller canceled; nothing is kept. */
export class ArchiveCanceledError extends DomainError {
  constructor() {
    super("canceled", "reading the archive was canceled");
  }
}
