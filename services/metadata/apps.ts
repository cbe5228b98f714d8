import type { AppRecord } from "../../libs/db/records.js";
import { deleteApp, getApp, listApps, putApp } from "../../libs/db/repositories/apps.js";
import { AppNotFoundError, InvalidFieldError } from "./errors.js";
import { nowOf, type MetadataDeps } from "./metadata-deps.js";
import { decodePageToken, encodePageToken, pageSize } from "./page-token.js";

/** An app as a caller describes it; times are assigned here. */
export type AppInput = Omit<AppRecord, "createdAt" | "updatedAt">;

/** Poll bounds: no faster than every 10 s (each poll is an ls-remote), no slower than a day. */
const minPollSecs = 10;
const maxPollSecs = 86_400;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** Creates or replaces an app (id defaults to its name); secret arg values are not kept. */
export async function saveApp(deps: MetadataDeps, input: AppInput): Promise<AppRecord> {
  if (input.name.trim() === "") throw new InvalidFieldError("app.name", input.name, "a non-empty name");
  const id = input.id === "" ? input.name : input.id;
  if (!idPattern.test(id)) throw new InvalidFieldError("app.id", id, "1-128 letters, digits, '.', '_', ':', '/' or '-'");
  if (!Number.isInteger(input.pollIntervalSecs) || input.pollIntervalSecs < 0 || input.pollIntervalSecs > maxPollSecs) {
    throw new InvalidFieldError("app.poll_interval_secs", String(input.pollIntervalSecs), `0 (never) or 10 to ${maxPollSecs} seconds`);
  }
  if (input.pollIntervalSecs > 0 && input.pollIntervalSecs < minPollSecs) {
    throw new InvalidFieldError("app.poll_interval_secs", String(input.pollIntervalSecs), `0 (never) or ${minPollSecs} to ${maxPollSecs} seconds`);
  }
  if (input.pollIntervalSecs > 0 && /[*?[]/.test(input.source.ref)) {
    throw new InvalidFieldError("app.source.ref", input.source.ref, "a branch, tag or commit when poll_interval_secs is set (a pattern is for webhooks only)");
  }
  for (const arg of input.args) {
    if (arg.name === "") throw new InvalidFieldError("app.args.name", arg.name, "a non-empty build arg name");
  }
  const now = nowOf(deps);
  return putApp(deps.database().db, {
    ...input,
    id,
    args: input.args.map((a) => ({ name: a.name, value: a.secret ? "" : a.value, secret: a.secret })),
    createdAt: now,
    updatedAt: now,
  });
}

/** The app with `id`; `AppNotFoundError` when there is none. */
export async function requireApp(deps: MetadataDeps, id: string): Promise<AppRecord> {
  const app = await getApp(deps.database().db, id);
  if (!app) throw new AppNotFoundError(id);
  return app;
}

/** One page of apps ordered by id. */
export async function listAppPage(deps: MetadataDeps, req: { pageSize: number; pageToken: string }): Promise<{ apps: AppRecord[]; nextPageToken: string }> {
  const limit = pageSize(req.pageSize);
  const afterId = decodePageToken("apps", req.pageToken);
  const rows = await listApps(deps.database().db, { ...(afterId !== undefined ? { afterId } : {}), limit: limit + 1 });
  const apps = rows.slice(0, limit);
  const last = apps[apps.length - 1];
  return { apps, nextPageToken: rows.length > limit && last ? encodePageToken("apps", last.id) : "" };
}

/** Deletes an app; `AppNotFoundError` when there is none. Its builds stay. */
export async function removeApp(deps: MetadataDeps, id: string): Promise<void> {
  if (!(await deleteApp(deps.database().db, id))) throw new AppNotFoundError(id);
}
