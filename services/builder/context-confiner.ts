import type { Readable } from "node:stream";
import { confineArchive } from "../../libs/tar/archive-confiner.js";
import type { ArchiveLimits } from "../../libs/tar/archive-limits.js";

export type { ArchiveLimits } from "../../libs/tar/archive-limits.js";

/**
 * The one archive confiner every build context passes on its way to a mode,
 * whichever wire it came over (`libs/tar/archive-confiner.ts`): headers
 * rebuilt from an allow-list, entries and links that could escape refused,
 * size and entry-count bombs refused; the first refusal fails the stream
 * with a `DomainError` naming the entry and the rule.
 */
export function confineContext(input: Readable, limits: Partial<ArchiveLimits> = {}, signal?: AbortSignal): Readable {
  return confineArchive(input, limits, signal);
}
