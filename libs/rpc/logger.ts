/**
 * The little the RPC runtime needs from a logger, so it works with pino or a
 * plain stderr writer alike. Fields never hold secrets.
 */
export interface RpcLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger writing one JSON line per entry to stderr. */
export function createStderrLogger(): RpcLogger {
  const write = (level: string, message: string, fields?: Record<string, unknown>): void => {
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields })}\n`);
  };
  return {
    info: (message, fields) => write("info", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}

/** A logger that drops everything; for tests that assert on their own output. */
export const silentLogger: RpcLogger = { info: () => undefined, error: () => undefined };
