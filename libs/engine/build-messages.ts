import { StringDecoder } from "node:string_decoder";

/** One log line of a build, by where it came from. */
export type BuildLogStream = "stdout" | "stderr" | "system";

/** What the engine's JSON message stream says, reduced to what a build needs. */
export type BuildMessage =
  | { readonly type: "line"; readonly stream: BuildLogStream; readonly text: string }
  | { readonly type: "imageId"; readonly id: string }
  | { readonly type: "error"; readonly message: string; readonly exitCode: number | undefined };

/**
 * Turns the chunks of `POST /build`'s response (newline-delimited JSON
 * objects, split or merged arbitrarily across chunks) into log lines, the
 * image id and the failure, as they arrive. Docker sends "Step 1/3 : X" and
 * its newline as two messages, so text is buffered per stream until a
 * newline; `end()` flushes what is left.
 */
export function createBuildMessageParser(): {
  push(chunk: Buffer | string): BuildMessage[];
  end(): BuildMessage[];
} {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const partial: Record<BuildLogStream, string> = { stdout: "", stderr: "", system: "" };

  const text = (stream: BuildLogStream, value: string, out: BuildMessage[]): void => {
    const lines = (partial[stream] + value).split(/\r?\n/);
    partial[stream] = lines.pop() ?? "";
    for (const line of lines) out.push({ type: "line", stream, text: line });
  };

  const message = (json: string, out: BuildMessage[]): void => {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      text("system", `${json}\n`, out);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    const m = value as Record<string, unknown>;
    if (typeof m["error"] === "string" || isRecord(m["errorDetail"])) {
      const detail = isRecord(m["errorDetail"]) ? m["errorDetail"] : {};
      const raw = typeof detail["message"] === "string" ? detail["message"] : String(m["error"] ?? "unknown error");
      const code = typeof detail["code"] === "number" ? detail["code"] : undefined;
      const msg = raw.trim();
      out.push({ type: "error", message: msg, exitCode: code ?? exitCodeIn(msg) });
      return;
    }
    if (typeof m["stream"] === "string") text("stdout", m["stream"], out);
    if (typeof m["status"] === "string") {
      const progress = typeof m["progress"] === "string" ? ` ${m["progress"]}` : "";
      const id = typeof m["id"] === "string" ? `${m["id"]}: ` : "";
      text("system", `${id}${m["status"]}${progress}\n`, out);
    }
    const aux = m["aux"];
    if (isRecord(aux) && typeof aux["ID"] === "string") out.push({ type: "imageId", id: aux["ID"] });
  };

  return {
    push(chunk) {
      const out: BuildMessage[] = [];
      pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const part of parts) if (part.trim() !== "") message(part.trim(), out);
      return out;
    },
    end() {
      const out: BuildMessage[] = [];
      pending += decoder.end();
      if (pending.trim() !== "") message(pending.trim(), out);
      pending = "";
      for (const stream of ["stdout", "stderr", "system"] as const) {
        if (partial[stream] !== "") out.push({ type: "line", stream, text: partial[stream] });
        partial[stream] = "";
      }
      return out;
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Docker: "returned a non-zero code: 3"; Podman: "exit status 3". */
function exitCodeIn(message: string): number | undefined {
  const m = /(?:non-zero code|exit status):? (\d+)/.exec(message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
