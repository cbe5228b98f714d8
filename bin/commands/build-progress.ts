import type { BuildEventJson } from "./build-events.js";
import { buildEventToText } from "./build-events.js";
import { CliExit, exitCodes } from "./exit.js";

/** Shows build events to a person or a program. */
export interface BuildReporter {
  event(e: BuildEventJson): void;
  /** Stops timers and spinners. */
  close(): void;
}

/** Where a reporter writes. */
export interface ReporterStreams {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** `--json`: one JSON object per line on stdout. */
export function createJsonReporter(streams: ReporterStreams): BuildReporter {
  return {
    event: (e) => void streams.stdout.write(`${JSON.stringify(e)}\n`),
    close() {},
  };
}

/** How `--progress` shows a build on stderr. */
export type ProgressMode = "auto" | "tty" | "plain" | "quiet";

/**
 * The reporter for `--json` and `--progress`: JSON lines when asked;
 * `auto` is the live terminal display when stderr is a terminal, plain
 * lines otherwise; `tty` insists on the live display and is a usage error
 * when stderr is not a terminal (a redrawn line in a log file is noise).
 * The live display's spinner library loads only when it is chosen.
 */
export async function chooseReporter(json: boolean, progress: ProgressMode, streams: ReporterStreams): Promise<BuildReporter> {
  if (json) return createJsonReporter(streams);
  switch (progress) {
    case "quiet":
      return createQuietReporter(streams);
    case "plain":
      return createPlainReporter(streams);
    case "tty":
      if (!streams.stderr.isTTY) throw new CliExit(exitCodes.usage, "--progress tty needs stderr to be a terminal: expected auto, plain or quiet when it is redirected");
      return terminalReporter(streams);
    case "auto":
      return streams.stderr.isTTY ? terminalReporter(streams) : createPlainReporter(streams);
  }
}

/**
 * `--progress quiet` (`-q`): nothing but the image reference on stdout on
 * success, and the failure line on stderr.
 */
export function createQuietReporter(streams: ReporterStreams): BuildReporter {
  return {
    event(e) {
      if (e.type === "ready") streams.stdout.write(`${e.image}\n`);
      else if (e.type === "failed") streams.stderr.write(`${buildEventToText(e)}\n`);
    },
    close() {},
  };
}

/**
 * Plain output: log and status lines on stderr, and on success the image
 * reference alone on stdout, so `image=$(buildplane build …)` works.
 */
export function createPlainReporter(streams: ReporterStreams): BuildReporter {
  return {
    event(e) {
      if (e.type === "ready") streams.stdout.write(`${e.image}\n`);
      else streams.stderr.write(`${buildEventToText(e)}\n`);
    },
    close() {},
  };
}

async function terminalReporter(streams: ReporterStreams): Promise<BuildReporter> {
  return (await import("./build-terminal-reporter.js")).createTerminalReporter(streams);
}
