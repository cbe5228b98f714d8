/**
 * The little the RPC runtime and the services need from a logger. Fields
 * never hold secrets on purpose; the pino logger also scrubs every known
 * secret value from each line as a last line of defence.
 */
export interface RpcLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
  /** Written only at `[log] level = "debug"` or lower. */
  debug?(message: string, fields?: Record<string, unknown>): void;
}

/**
 * A logger that drops everything: the embedded CLI's, and tests' that assert
 * on their own output. Apart from `logger.ts`, so using it loads no pino.
 */
export const silentLogger: RpcLogger = { info: () => undefined, error: () => undefined };
