import { Code } from "@connectrpc/connect";
import { isErrorCode, type ErrorCode } from "../errors/domain-error.js";

/**
 * The one conversion between Connect's `Code`, its wire name as records and
 * `Failed` events carry it (`deadline_exceeded`, as in gRPC status names)
 * and the domain's `ErrorCode` (`deadlineExceeded`). A name nobody knows
 * becomes `unknown`, never a throw: names come from stored records and from
 * other processes. Domain code names its own codes with `errorCodeName` and
 * `errorCodeFromName` (libs/errors/domain-error.ts), without loading Connect.
 */
export function codeName(code: Code): string {
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** The Connect code of a snake_case name such as `deadline_exceeded`; `Unknown` for any other string. */
export function codeFromName(name: string): Code {
  const pascal = name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()).replace(/^[a-z]/, (c) => c.toUpperCase());
  const value = (Code as unknown as Record<string, number | undefined>)[pascal];
  return typeof value === "number" ? value : Code.Unknown;
}

/** The domain code a Connect code stands for. */
export function errorCodeOf(code: Code): ErrorCode {
  const name = Code[code];
  const camel = name ? name.charAt(0).toLowerCase() + name.slice(1) : "unknown";
  return isErrorCode(camel) ? camel : "unknown";
}
