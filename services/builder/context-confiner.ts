import type { Readable } from "node:stream";
import { defaultTarLimits, guardTar, type TarLimits } from "./openrun/tar-guard.js";

export { UnsafeArchiveError, defaultTarLimits, type TarLimits } from "./openrun/tar-guard.js";

/**
 * The one archive confiner every build context passes on its way to a mode,
 * whichever wire it came over: entries that could escape the folder they are
 * unpacked into, and size or entry-count bombs, fail the stream with
 * `UnsafeArchiveError` naming the entry.
 */
export function confineContext(input: Readable, limits: TarLimits = defaultTarLimits): Readable {
  return guardTar(input, limits);
}
