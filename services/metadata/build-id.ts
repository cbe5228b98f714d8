import { randomBytes } from "node:crypto";

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case
let lastTime = 0;
let lastRandom: number[] = [];

/**
 * A new build id, `b_` + 10 base32 digits of milliseconds + 16 random
 * digits: ids sort by creation time (newest-first paging needs no extra
 * column) and stay strictly increasing within a process.
 */
export function newBuildId(now: number = Date.now()): string {
  if (now <= lastTime) {
    now = lastTime;
    increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = [...randomBytes(16)].map((b) => b & 31);
  }
  let time = "";
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = alphabet.charAt(t % 32) + time;
  return `b_${time}${lastRandom.map((d) => alphabet.charAt(d)).join("")}`;
}

/** True when `id` has the shape `newBuildId` produces. */
export function isBuildId(id: string): boolean {
  return /^b_[0-9a-hjkmnp-tv-z]{26}$/.test(id);
}

function increment(digits: number[]): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = (digits[i] ?? 0) + 1;
    digits[i] = d & 31;
    if (d < 32) return;
  }
}
