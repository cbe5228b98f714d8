import ora, { type Ora } from "ora";
import { buildEventToText } from "./build-events.js";
import type { BuildReporter, ReporterStreams } from "./build-progress.js";

/**
 * Terminal output: a live status line (current step, elapsed time) under
 * the scrolling log, and the image reference at the end.
 */
export function createTerminalReporter(streams: ReporterStreams, now: () => number = Date.now): BuildReporter {
  const started = now();
  let step = "resolving";
  const spinner: Ora = ora({ stream: streams.stderr as NodeJS.WritableStream & { isTTY: true } }).start(step);
  const render = (): void => {
    const secs = Math.floor((now() - started) / 1000);
    spinner.text = `${step} (${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, "0")}s)`;
  };
  const timer = setInterval(render, 1000);
  timer.unref();
  return {
    event(e) {
      switch (e.type) {
        case "log":
          spinner.clear();
          streams.stderr.write(`${e.text}\n`);
          if (/^Step \d+\/\d+ :|^STEP \d+\/\d+:/.test(e.text)) step = e.text;
          break;
        case "ready":
          spinner.succeed(`${e.cached ? "image exists" : "built"}: ${e.image}`);
          streams.stdout.write(`${e.image}\n`);
          return;
        case "failed":
          spinner.fail(buildEventToText(e));
          return;
        default:
          step = buildEventToText(e);
      }
      render();
    },
    close() {
      clearInterval(timer);
      if (spinner.isSpinning) spinner.stop();
    },
  };
}
