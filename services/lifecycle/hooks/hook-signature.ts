import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Secret } from "../../../libs/secret/secret.js";
import type { HookProvider } from "./push-event.js";

/** Headers as Node gives them (lower-case names). */
export type HookHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Which host sent a webhook, from its event header, and the event's name; undefined for none we know. */
export function detectProvider(headers: HookHeaders): { provider: HookProvider; event: string } | undefined {
  const h = (name: string): string => {
    const v = headers[name];
    return (Array.isArray(v) ? v[0] : v) ?? "";
  };
  // Gitea and Forgejo also send GitHub's headers: ask for theirs first.
  const gitea = h("x-gitea-event") || h("x-forgejo-event");
  if (gitea) return { provider: "gitea", event: gitea };
  if (h("x-gitlab-event")) return { provider: "gitlab", event: h("x-gitlab-event") };
  if (h("x-event-key")) return { provider: "bitbucket", event: h("x-event-key") };
  if (h("x-github-event")) return { provider: "github", event: h("x-github-event") };
  return undefined;
}

/** Why a webhook's signature was refused. */
export class HookSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HookSignatureError";
  }
}

/**
 * Checks a webhook against `[hooks] secret` in constant time: GitHub's
 * `X-Hub-Signature-256` and Bitbucket's `X-Hub-Signature` (`sha256=<hex>`
 * HMAC of the body), Gitea's `X-Gitea-Signature` (or Forgejo's
 * `X-Forgejo-Signature`, bare hex), GitLab's `X-Gitlab-Token` (the secret
 * itself). Throws `HookSignatureError` saying which header was missing or wrong.
 */
export function verifyHookSignature(provider: HookProvider, headers: HookHeaders, body: Buffer, secret: Secret): void {
  const h = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const key = secret.unwrap();
  const hmac = (): Buffer => createHmac("sha256", key).update(body).digest();
  switch (provider) {
    case "github":
      return checkHex("X-Hub-Signature-256", h("x-hub-signature-256"), "sha256=", hmac);
    case "bitbucket":
      return checkHex("X-Hub-Signature", h("x-hub-signature"), "sha256=", hmac);
    case "gitea": {
      const forgejo = h("x-forgejo-signature");
      return forgejo !== undefined && h("x-gitea-signature") === undefined
        ? checkHex("X-Forgejo-Signature", forgejo, "", hmac)
        : checkHex("X-Gitea-Signature", h("x-gitea-signature"), "", hmac);
    }
    case "gitlab": {
      const token = h("x-gitlab-token");
      if (token === undefined || token === "") throw new HookSignatureError("missing X-Gitlab-Token");
      // Hashing both sides first makes the comparison constant-time whatever the lengths.
      const digest = (s: string): Buffer => createHash("sha256").update(s).digest();
      if (!timingSafeEqual(digest(token), digest(key))) throw new HookSignatureError("X-Gitlab-Token does not match [hooks] secret");
      return;
    }
  }
}

function checkHex(header: string, value: string | undefined, prefix: string, expected: () => Buffer): void {
  if (value === undefined || value === "") throw new HookSignatureError(`missing ${header}`);
  const hex = value.startsWith(prefix) ? value.slice(prefix.length) : "";
  const given = /^[0-9a-fA-F]{64}$/.test(hex) ? Buffer.from(hex, "hex") : undefined;
  if (given === undefined) throw new HookSignatureError(`${header} is not ${prefix === "" ? "" : `"${prefix}" followed by `}64 hex digits`);
  if (!timingSafeEqual(given, expected())) throw new HookSignatureError(`${header} does not match the body signed with [hooks] secret`);
}
