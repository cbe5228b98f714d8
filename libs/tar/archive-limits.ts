import { DomainError } from "../errors/domain-error.js";

/** Limits on what one archive (a build context) may hold. */
export interface ArchiveLimits {
  /** Largest total of file sizes, in bytes, once uncompressed (size bombs). */
  readonly maxBytes: number;
  /** Largest number of entries, folders and links included (entry-count bombs). */
  readonly maxEntries: number;
  /** Longest entry name or link target, in UTF-8 bytes. */
  readonly maxPathLength: number;
  /** Largest PAX or GNU long-name record, in bytes: such records are held in memory. */
  readonly maxRecordBytes: number;
}

/** Default limits: 8 GiB of file contents, 200,000 entries, 4,096-byte paths, 1 MiB records. */
export const defaultArchiveLimits: ArchiveLimits = Object.freeze({
  maxBytes: 8 * 1024 ** 3,
  maxEntries: 200_000,
  maxPathLength: 4096,
  maxRecordBytes: 1024 * 1024,
});

/** The limits with every field not given taken from the defaults, frozen. */
export function resolveArchiveLimits(limits: Partial<ArchiveLimits> = {}): ArchiveLimits {
  const resolved = { ...defaultArchiveLimits, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new DomainError("invalidArgument", `archive limit ${key} ${String(value)} is not valid: expected a whole number of 0 or more`);
  }
  return Object.freeze(resolved);
}
