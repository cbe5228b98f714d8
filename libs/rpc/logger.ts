import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "../config/config-types.js";
import type { LogScrubber } from "../secret/scrub.js";
import type { RpcLogger } from "./rpc-logger.js";

export { silentLogger, type RpcLogger } from "./rpc-logger.js";

/** What `createLogger` takes; everything has a default. */
export interface LoggerOptions {
  /** `[log] level` (default `info`). */
  readonly level?: LogLevel;
  /** Known secret values replaced by `***` in every line written. */
  readonly scrubber?: LogScrubber;
  /** The trace id of the span active where a line is written, if any (see `libs/tracing`). */
  readonly traceId?: () => string | undefined;
  /** Where lines go (default: stderr, written synchronously so none is lost at exit). */
  readonly destination?: DestinationStream;
}

/**
 * A pino logger writing one JSON object per line: `level` (a name),
 * `time` (ISO 8601), `pid`, `hostname`, `msg`, the fields, and `trace_id`
 * while a trace is active.
 */
export function createLogger(options: LoggerOptions = {}): RpcLogger {
  const traceId = options.traceId;
  const scrubber = options.scrubber;
  const logger: Logger = pino(
    {
      level: options.level ?? "info",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(traceId ? { mixin: () => { const id = traceId(); return id ? { trace_id: id } : {}; } } : {}),
      ...(scrubber && scrubber.size > 0 ? { hooks: { streamWrite: (line: string) => scrubber.scrub(line) } } : {}),
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
  const at = (level: "info" | "error" | "warn" | "debug") => (message: string, fields?: Record<string, unknown>): void => {
    if (fields) logger[level](fields, message);
    else logger[level](message);
  };
  // Without debug lines there is no `debug`: callers skip the work of a line nobody writes.
  return { info: at("info"), error: at("error"), warn: at("warn"), ...(logger.isLevelEnabled("debug") ? { debug: at("debug") } : {}) };
}

/** A logger writing JSON lines to stderr at level `info`, before the configuration is known. */
export function createStderrLogger(): RpcLogger {
  return createLogger();
}

