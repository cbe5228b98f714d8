/** Longest stored line in UTF-8 bytes; longer ones are cut, not refused. */
export const maxLineBytes = 64 * 1024;

/**
 * Makes a line storable in both dialects: NUL characters (refused by
 * Postgres text) become U+FFFD, and a line over `maxBytes` is cut on a
 * character boundary with a suffix saying how many bytes were cut.
 */
export function storableLineText(text: string, maxBytes: number = maxLineBytes): string {
  const clean = text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
  const bytes = Buffer.byteLength(clean, "utf8");
  if (bytes <= maxBytes) return clean;
  const suffix = ` … [line truncated: ${bytes} bytes, kept the first ${maxBytes - 64} bytes]`;
  let kept = Buffer.from(clean, "utf8").subarray(0, maxBytes - 64).toString("utf8");
  if (kept.endsWith("\uFFFD")) kept = kept.slice(0, -1);
  return kept + suffix;
}

/** Text of the single marker line that stands for lines dropped by the cap. */
export function droppedMarkerText(dropped: number, maxLines: number): string {
  return `[${dropped} log line${dropped === 1 ? "" : "s"} dropped: this build reached the limit of ${maxLines} lines (system.max_log_lines_per_build)]`;
}
