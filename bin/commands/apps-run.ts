import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { App } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import type { AddAppOptions, AppsCommandIo } from "./apps.js";
import type { CommonOptions } from "./builds.js";
import { withMetadata } from "./builds-run.js";
import { CliExit, exitCodes } from "./exit.js";

const argName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `buildplane apps add <id>`: stores the app (replacing one with the same id) and prints it. */
export function addApp(id: string, opts: AddAppOptions, io: AppsCommandIo): Promise<void> {
  const args = opts.arg.map((given) => {
    const eq = given.indexOf("=");
    const name = eq < 0 ? given : given.slice(0, eq);
    if (eq < 0 || !argName.test(name)) throw new CliExit(exitCodes.usage, `build arg "${given}" is not valid: expected NAME=VALUE with NAME of letters, digits and _`);
    return { name, value: given.slice(eq + 1), secret: false };
  });
  return withMetadata(opts, async ({ client }) => {
    const { app } = await client.putApp({
      app: {
        id,
        name: opts.name ?? id,
        source: { repository: opts.repo, ref: opts.ref ?? "", dir: opts.dir ?? "" },
        containerfile: opts.file ?? "",
        args,
        target: opts.target ?? "",
        pollIntervalSecs: opts.poll ?? 0,
      },
    });
    if (!app) throw new CliExit(exitCodes.failure, `app ${id} was not returned by the server`);
    if (opts.json) return io.out(`${JSON.stringify(appJson(app), null, 2)}\n`);
    io.out(`app ${app.id} registered: ${describeSpec(app)}\n`);
  });
}

/** `buildplane apps list`: every app ordered by id, as a table or JSON records. */
export function listApps(opts: CommonOptions & { json?: boolean }, io: AppsCommandIo): Promise<void> {
  return withMetadata(opts, async ({ client }) => {
    const apps: App[] = [];
    let pageToken = "";
    do {
      const page = await client.listApps({ pageSize: 500, pageToken });
      apps.push(...page.apps);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    if (opts.json) return io.out(`${JSON.stringify(apps.map(appJson), null, 2)}\n`);
    const rows = [["ID", "REF", "POLL", "SOURCE"], ...apps.map((a) => [a.id, a.source?.ref || "(default)", a.pollIntervalSecs > 0 ? `${a.pollIntervalSecs}s` : "-", sourceText(a)])];
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
    io.out(rows.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join("  ").trimEnd() + "\n").join(""));
  });
}

/** `buildplane apps show <id>`: one app, as `key: value` lines or a JSON record. */
export function showApp(id: string, opts: CommonOptions & { json?: boolean }, io: AppsCommandIo): Promise<void> {
  return withMetadata(opts, async ({ client }) => {
    const { app } = await client.getApp({ id });
    if (!app) throw new CliExit(exitCodes.failure, `app ${id} not found`);
    const record = appJson(app);
    if (opts.json) return io.out(`${JSON.stringify(record, null, 2)}\n`);
    for (const [k, v] of Object.entries(record)) {
      const text = Array.isArray(v) ? v.map((a) => `${a.name}=${a.value}`).join(" ") : String(v ?? "");
      if (text !== "" && text !== "0") io.out(`${`${k}:`.padEnd(18)}${text}\n`);
    }
  });
}

/** `buildplane apps remove <id>`: its builds and images stay. */
export function removeApp(id: string, opts: CommonOptions, io: AppsCommandIo): Promise<void> {
  return withMetadata(opts, async ({ client }) => {
    await client.deleteApp({ id });
    io.out(`app ${id} removed (its builds and images stay)\n`);
  });
}

/** The fields scripts rely on. */
function appJson(a: App): { id: string; name: string; repository: string; ref: string; dir: string; containerfile: string; args: { name: string; value: string }[]; target: string; pollIntervalSecs: number; createdAt: string | null; updatedAt: string | null } {
  const iso = (t: Timestamp | undefined): string | null => (t ? new Date(timestampMs(t)).toISOString() : null);
  return {
    id: a.id,
    name: a.name,
    repository: a.source?.repository ?? "",
    ref: a.source?.ref ?? "",
    dir: a.source?.dir ?? "",
    containerfile: a.containerfile,
    args: a.args.map((x) => ({ name: x.name, value: x.value })),
    target: a.target,
    pollIntervalSecs: a.pollIntervalSecs,
    createdAt: iso(a.createTime),
    updatedAt: iso(a.updateTime),
  };
}

function sourceText(a: App): string {
  const dir = a.source?.dir ? ` (${a.source.dir})` : "";
  return `${a.source?.repository ?? ""}${dir}`;
}

function describeSpec(a: App): string {
  const ref = a.source?.ref ? ` at ${a.source.ref}` : " at its default branch";
  const poll = a.pollIntervalSecs > 0 ? `, polled every ${a.pollIntervalSecs}s` : "";
  return `${sourceText(a)}${ref}${poll}`;
}
