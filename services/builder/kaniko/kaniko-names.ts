import { createHash, randomBytes } from "node:crypto";

/** Longest Job name: its pods are `<job>-<5 chars>` and carry `job-name=<job>` (a label value, ≤ 63). */
const maxJobName = 52;
const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A random suffix for one build's object names: 10 characters of [a-z0-9]
 * (about 51 bits), so two builds of the same image started in the same
 * millisecond never share a Job or its Secrets (OpenRun's second-resolution
 * names did, and one build's clean-up deleted the other's Job).
 */
export function newNameSuffix(): string {
  const bytes = randomBytes(10);
  let s = "";
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

/** True when `s` is an RFC 1123 DNS label (what Kubernetes names and our Job names must be). */
export function isDnsLabel(s: string): boolean {
  return s.length >= 1 && s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

/** The Job name: `bp-<readable part of the image name>-<suffix>`, a DNS label of at most 52 characters. */
export function jobName(imageName: string, suffix: string): string {
  const base = imageName.split(":")[0] ?? "";
  const slug = base.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  const room = maxJobName - "bp-".length - 1 - suffix.length;
  const cut = slug.slice(0, Math.max(0, room)).replace(/-+$/g, "");
  return cut === "" ? `bp-${suffix}` : `bp-${cut}-${suffix}`;
}

/**
 * A label value (≤ 63 chars of [A-Za-z0-9._-], alphanumeric at both ends).
 * A value that does not fit is cut and given a hash of the whole, so two long
 * values stay distinct.
 */
export function labelValue(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  if (clean === s && s.length <= 63) return s;
  const hash = createHash("sha256").update(s).digest("hex").slice(0, 12);
  const head = clean.slice(0, 50).replace(/[^A-Za-z0-9]+$/g, "");
  return head === "" ? hash : `${head}-${hash}`;
}
