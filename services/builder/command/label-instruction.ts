import type { Readable } from "node:stream";
import { extract as tarExtract, pack as tarPack, type Header } from "tar-stream";

/** Keys and values that need no escaping in a double-quoted Containerfile string. */
const plain = /^[A-Za-z0-9_.:/@+=,~-]*$/;

/** Largest Containerfile rewritten in memory; a larger one keeps the engine's labels. */
const maxContainerfileBytes = 1024 * 1024;

/**
 * Docker's classic builder turns each entry of the `labels` build option
 * into its own `LABEL` step, and each step commits an image (about 0.3 s
 * apiece here). One `LABEL` instruction appended to the Containerfile sets
 * them all in one step. That is only sound when the last stage is the one
 * built (no target) and every key and value is plain text; otherwise the
 * labels go to the engine as usual.
 */
export function canInlineLabels(labels: Readonly<Record<string, string>>, target: string | undefined): boolean {
  if (target) return false;
  const entries = Object.entries(labels);
  return entries.length > 1 && entries.every(([k, v]) => k !== "" && plain.test(k) && plain.test(v));
}

/** `LABEL "k1"="v1" "k2"="v2"`, keys sorted. */
export function labelInstruction(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `"${k}"="${labels[k] ?? ""}"`);
  return `LABEL ${pairs.join(" ")}`;
}

/**
 * Re-streams a context tar with `instruction` appended, on a line of its
 * own, to the entry named `containerfile`. A Containerfile whose last line
 * continues (ends with `\` or `` ` ``) or that is larger than 1 MiB is left
 * as it is, so the instruction can never change the meaning of another one.
 * Resolves `applied` with whether it was appended.
 */
export function appendInstruction(context: Readable, containerfile: string, instruction: string): { readonly stream: Readable; readonly applied: Promise<boolean> } {
  const extract = tarExtract();
  const out = tarPack();
  let done: (applied: boolean) => void = () => undefined;
  const applied = new Promise<boolean>((r) => (done = r));
  let found = false;
  const fail = (err: unknown): void => {
    out.destroy(err instanceof Error ? err : new Error(String(err)));
    extract.destroy();
    context.destroy();
    done(false);
  };
  const pipeEntry = (header: Header, stream: NodeJS.ReadableStream, next: () => void): void => {
    const entry = out.entry(header, (err) => (err ? fail(err) : next()));
    // streamx takes a completion callback on pipe, which keeps a destroyed output from throwing.
    const pipeTo = stream.pipe.bind(stream) as unknown as (dest: NodeJS.WritableStream, cb: (err?: Error | null) => void) => void;
    pipeTo(entry, (err) => {
      if (err) fail(err);
    });
  };
  extract.on("entry", (header: Header, stream, next) => {
    const name = header.name.replace(/^\.\//, "");
    if (found || name !== containerfile || header.type !== "file" || (header.size ?? 0) > maxContainerfileBytes) {
      pipeEntry(header, stream as unknown as NodeJS.ReadableStream, next);
      return;
    }
    found = true;
    const chunks: Buffer[] = [];
    stream.on("data", (b: unknown) => void chunks.push(b as Buffer));
    stream.on("error", fail);
    stream.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const continues = /[\\`]\s*$/.test(text);
      const body = continues ? Buffer.concat(chunks) : Buffer.from(`${text}${text.endsWith("\n") ? "" : "\n"}${instruction}\n`);
      out.entry({ ...header, size: body.length }, body, (err) => (err ? fail(err) : next()));
      done(!continues);
    });
  });
  extract.on("finish", () => {
    out.finalize();
    done(false);
  });
  extract.on("error", fail);
  context.on("error", fail);
  context.pipe(extract);
  return { stream: out as unknown as Readable, applied };
}

/** A context holding only `FROM <image>`: relabels a built image when the instruction could not be appended. */
export function labelOnlyContext(image: string): Readable {
  const p = tarPack();
  p.entry({ name: "Containerfile", mode: 0o644, mtime: new Date(0) }, `FROM ${image}\n`);
  p.finalize();
  return p as unknown as Readable;
}
