/** A registered app as the lifecycle service uses it: where it comes from and how it is built. */
export interface RegisteredApp {
  readonly id: string;
  readonly repository: string;
  /** Branch, tag, pattern, or "" for the default branch. */
  readonly ref: string;
  readonly dir: string;
  readonly containerfile: string;
  readonly args: readonly { readonly name: string; readonly value: string }[];
  readonly target: string;
  readonly pollIntervalSecs: number;
}

/** Ends one build and says how: the outcome of EnsureImage's last event. */
export type PrebuildOutcome = { readonly ok: true; readonly image: string; readonly buildId: string } | { readonly ok: false; readonly code: string; readonly message: string };

/** Runs EnsureImage for an app at a ref or commit to its end. */
export type EnsureAppImage = (app: RegisteredApp, ref: string, requester: string, signal: AbortSignal) => Promise<PrebuildOutcome>;
