/** A build record as garbage collection sees it. */
export interface GcBuild {
  readonly id: string;
  readonly appId: string;
  readonly image: string;
  readonly imageKey: string;
  readonly digest: string;
  /** Epoch ms the build finished (its creation for a build still running). */
  readonly finishedAt: number;
  readonly pinned: boolean;
}

/** Why an image beyond the newest `keep` stays. */
export type KeepReason = "pinned" | "running" | "lease" | "young";

/** One image and the builds that made it. */
export interface GcImage {
  /** The app, or the image's repository for builds without one. */
  readonly app: string;
  readonly image: string;
  readonly imageKey: string;
  readonly digest: string;
  readonly buildIds: readonly string[];
  /** When its newest build finished. */
  readonly newestAt: number;
}

export interface GcPlanInput {
  /** Succeeded builds whose image has not been collected. */
  readonly succeeded: readonly GcBuild[];
  /** Image keys of builds queued, running or pushing now. */
  readonly runningKeys: ReadonlySet<string>;
  /** Image keys whose build lease (`build:<key>`) is held. */
  readonly leasedKeys: ReadonlySet<string>;
  readonly keep: number;
  /** Images younger than this stay (0: none does for age alone). */
  readonly olderThanMs: number;
  readonly now: number;
}

export interface GcPlan {
  /** Images to delete, oldest first. */
  readonly remove: readonly GcImage[];
  /** Images beyond the newest `keep` that stay, and why. */
  readonly held: readonly (GcImage & { readonly reason: KeepReason })[];
}

/**
 * Decides what garbage collection deletes, without I/O: per app, the
 * `keep` newest images (by their newest succeeded build) stay; of the rest
 * an image stays when any of its builds is pinned, when a build of its key
 * runs or its build lease is held, or when it is younger than `olderThanMs`;
 * every other one goes.
 */
export function planCollection(input: GcPlanInput): GcPlan {
  const byApp = new Map<string, Map<string, { image: string; imageKey: string; digest: string; ids: string[]; newestAt: number; pinned: boolean }>>();
  for (const b of input.succeeded) {
    if (b.image === "") continue;
    const app = b.appId !== "" ? b.appId : repositoryOf(b.image);
    const images = byApp.get(app) ?? new Map();
    byApp.set(app, images);
    const known = images.get(b.image);
    if (known) {
      known.ids.push(b.id);
      known.pinned ||= b.pinned;
      if (b.finishedAt > known.newestAt) Object.assign(known, { newestAt: b.finishedAt, digest: b.digest || known.digest, imageKey: b.imageKey || known.imageKey });
    } else {
      images.set(b.image, { image: b.image, imageKey: b.imageKey, digest: b.digest, ids: [b.id], newestAt: b.finishedAt, pinned: b.pinned });
    }
  }
  const remove: GcImage[] = [];
  const held: (GcImage & { reason: KeepReason })[] = [];
  for (const [app, images] of [...byApp.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const newestFirst = [...images.values()].sort((a, b) => b.newestAt - a.newestAt || b.image.localeCompare(a.image));
    for (const img of newestFirst.slice(input.keep).reverse()) {
      const entry: GcImage = { app, image: img.image, imageKey: img.imageKey, digest: img.digest, buildIds: img.ids, newestAt: img.newestAt };
      const reason: KeepReason | undefined = img.pinned
        ? "pinned"
        : input.runningKeys.has(img.imageKey)
          ? "running"
          : input.leasedKeys.has(img.imageKey)
            ? "lease"
            : input.olderThanMs > 0 && input.now - img.newestAt < input.olderThanMs
              ? "young"
              : undefined;
      if (reason) held.push({ ...entry, reason });
      else remove.push(entry);
    }
  }
  return { remove, held };
}

/** `host/project/cli-app` of `host/project/cli-app:tag` (a digest form is cut at `@`). */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf("@");
  const name = at >= 0 ? reference.slice(0, at) : reference;
  const colon = name.lastIndexOf(":");
  return colon > name.lastIndexOf("/") ? name.slice(0, colon) : name;
}
