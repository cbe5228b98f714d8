import { Code } from "@connectrpc/connect";
import { isErrorCode, type ErrorCode } from "../errors/domain-error.js";

/**
 * The one conversion between Connect's `Code`, its wire name as records and
 * `Failed` events carry it (`deadline_exceeded`, as in gRPC status names)
 * and the domain's `ErrorCode` (`deadlineExceeded`). A name nobody knows
 * becomes `unknown`, never a throw: names come from stored records and from
 * other processes.
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

/**
 * The wire name of a domain code, as records and `Failed` events carry it:
 * `deadlineExceeded` → `deadline_exceeded`, the same name `codeName` gives
 * the Connect code of that name.
 */
export function errorCodeName(code: ErrorCode): string {
  return code.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The domain code of a snake_case name such as `deadline_exceeded`; `unknown` for any other string. */
export function errorCodeFromName(name: string): ErrorCode {
  return errorCodeOf(codeFromName(name));
}
