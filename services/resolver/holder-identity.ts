import { isPidAlive } from "../../libs/lock/pid-alive.js";

/**
 * Who holds a build lease: the host, the process id and a random instance
 * id, written `host/pid/instance` in the lease. A process on the same host
 * can then tell that a holder is gone (no such pid) without waiting for its
 * lease to expire.
 */
export interface HolderIdentity {
  readonly host: string;
  readonly pid: number;
  readonly instance: string;
  /** `host/pid/instance`, as stored in the lease. */
  readonly text: string;
}

/** The identity `host/pid/instance`; `host` must not contain `/`. */
export function holderIdentity(host: string, pid: number, instance: string): HolderIdentity {
  const safeHost = host.replaceAll("/", "_");
  return { host: safeHost, pid, instance, text: `${safeHost}/${pid}/${instance}` };
}

/** The identity written in a lease, or undefined when it is not `host/pid/instance`. */
export function parseHolder(text: string): HolderIdentity | undefined {
  const m = /^([^/]+)\/([1-9][0-9]{0,9})\/([^/]+)$/.exec(text);
  if (!m) return undefined;
  return { host: m[1] ?? "", pid: Number(m[2]), instance: m[3] ?? "", text };
}


/**
 * True when `holderText` names a process on `self`'s host, other than
 * `self`'s own, that no longer runs: its lease can be taken at once. A
 * holder on another host, in this process, or whose pid runs (perhaps
 * reused) is left to its lease's expiry.
 */
export function isDeadLocalHolder(holderText: string, self: HolderIdentity, isAlive: (pid: number) => boolean = isPidAlive): boolean {
  const holder = parseHolder(holderText);
  if (!holder || holder.host !== self.host || holder.pid === self.pid) return false;
  return !isAlive(holder.pid);
}
