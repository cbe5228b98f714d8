import { Transform, type Readable } from "node:stream";
import { pack as tarPack } from "tar-stream";
import { resolveArchiveLimits } from "../../../libs/tar/archive-limits.js";
import type { ConfinedEntry } from "../../../libs/tar/archive-tree.js";
import { createTarParser, type TarEvent } from "../../../libs/tar/tar-parser.js";
import { createTarRewriter, decodeConfinedEntry } from "../../../libs/tar/tar-rewriter.js";

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
 *
 * The input is the archive confiner's output: every header is written again
 * as the confiner writes it (`createTarRewriter`), and file bodies pass
 * through as the views of the input they arrived in, uncopied; only the
 * Containerfile is held, to be rewritten.
 */
export function appendInstruction(context: Readable, containerfile: string, instruction: string): { readonly stream: Readable; readonly applied: Promise<boolean> } {
  // A confined archive's extension records hold only a path and a link target, each within its path limit.
  const parser = createTarParser(resolveArchiveLimits({ maxRecordBytes: Number.MAX_SAFE_INTEGER }));
  let done: (applied: boolean) => void = () => undefined;
  const applied = new Promise<boolean>((r) => (done = r));
  let found = false;
  let held: { readonly entry: ConfinedEntry & { type: "file" }; readonly parts: Buffer[] } | undefined;
  const writer = createTarRewriter((piece) => out.push(piece));

  const out: Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        for (const event of parser.push(chunk)) handle(event);
      } catch (err) {
        callback(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      writer.flush();
      callback();
    },
    flush(callback) {
      try {
        for (const event of parser.end()) handle(event);
        writer.end();
      } catch (err) {
        callback(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      writer.flush();
      done(false);
      callback();
    },
  });

  function handle(event: TarEvent): void {
    switch (event.kind) {
      case "entry": {
        const entry = decodeConfinedEntry(event.entry);
        if (!found && entry.type === "file" && entry.path.replace(/^\.\//, "") === containerfile && entry.size <= maxContainerfileBytes) {
          found = true;
          held = { entry, parts: [] };
          return;
        }
        writer.entry(entry);
        return;
      }
      case "data":
        if (held) held.parts.push(event.bytes);
        else writer.body(event.bytes);
        return;
      case "entryEnd": {
        if (held) {
          const original = Buffer.concat(held.parts);
          const text = original.toString("utf8");
          const continues = /[\\`]\s*$/.test(text);
          const body = continues ? original : Buffer.from(`${text}${text.endsWith("\n") ? "" : "\n"}${instruction}\n`);
          writer.entry({ ...held.entry, size: body.length });
          writer.body(body);
          held = undefined;
          done(!continues);
        }
        writer.entryEnd();
        return;
      }
      case "end":
        writer.end();
        return;
    }
  }

  context.on("error", (err) => out.destroy(err));
  out.once("close", () => {
    done(false);
    if (!context.destroyed && !context.readableEnded) context.destroy();
  });
  context.pipe(out);
  return { stream: out, applied };
}

/** A context holding only `FROM <image>`: relabels a built image when the instruction could not be appended. */
export function labelOnlyContext(image: string): Readable {
  const p = tarPack();
  p.entry({ name: "Containerfile", mode: 0o644, mtime: new Date(0) }, `FROM ${image}\n`);
  p.finalize();
  return p as unknown as Readable;
}
