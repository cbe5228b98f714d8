import { createHmac, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DomainError } from "../errors/domain-error.js";
import type { Secret } from "../secret/secret.js";
import { makeOwnedTempDir, removeOwnedTempDir } from "../temp/owned-temp.js";
import { UnsafePathError } from "./git-errors.js";
import type { ParsedRepository } from "./git-url.js";

/**
 * Credentials for one git operation. Secrets stay `Secret` until the child
 * environment or the temporary key file is written.
 */
export interface GitAuth {
  /** HTTP user, or SSH user when the URL names none (default "git"). */
  readonly username: string;
  /** HTTP password or token; with a private key, its passphrase. */
  readonly password: Secret | undefined;
  /** PEM private key for SSH, written to a 0600 file in a private folder for one operation. */
  readonly privateKey: Secret | undefined;
  /** Path of an SSH key file on this machine (not a secret itself). */
  readonly keyFilePath: string;
}

/** The environment git runs with, and what to remove afterwards. */
export interface PreparedGitEnv {
  readonly env: Readonly<Record<string, string>>;
  cleanup(): Promise<void>;
}

/**
 * `<gitRoot>/tmp`: where one operation's askpass helper and SSH key file
 * live (a 0700 folder under the data dir, never a shared temp path), each in
 * a folder named after its process so a start-up sweep removes what a killed
 * process left.
 */
export function gitTempRoot(gitRoot: string): string {
  return join(gitRoot, "tmp");
}

/** Protocols git may use; `ext::` and friends would run commands. */
export const allowedProtocols = "https:http:git:ssh:file";

/** SSH's passphrase prompt helper. */
const ASKPASS = `#!/bin/sh
printf '%s\\n' "$BUILDPLANE_ASKPASS_PASSWORD"
`;

const processKey = randomBytes(32);

/**
 * A stable identity of credentials for cache keys (mirror folders, ls-remote
 * results): an HMAC under a per-process random key, so it reveals nothing
 * and cannot be tested offline. "" means anonymous.
 */
export function authIdentity(auth: GitAuth | undefined): string {
  if (auth === undefined) return "";
  const h = createHmac("sha256", processKey);
  for (const part of [auth.username, auth.password?.unwrap() ?? "", auth.privateKey?.unwrap() ?? "", auth.keyFilePath]) {
    h.update(part).update("\0");
  }
  return h.digest("hex");
}

/**
 * A credential helper that answers `get` from two non-`GIT_` variables. It
 * is configured under `credential.<scheme>://<host:port>.helper`, so git
 * asks it only for that exact scheme, host and port: a redirect to another
 * host, or any other URL, gets nothing.
 */
const HELPER = `!f() { test "$1" = get || exit 0; printf 'username=%s\\npassword=%s\\n' "$BUILDPLANE_GIT_USERNAME" "$BUILDPLANE_GIT_PASSWORD"; }; f`;

/**
 * Builds git's environment from scratch (nothing inherited but PATH): no
 * user or system config, no credential helper but ours (nothing is ever
 * stored), no prompts, only safe protocols, redirects followed only on the
 * first request. HTTP credentials come from a helper scoped to the
 * repository's own scheme, host and port, reading non-`GIT_` variables; SSH
 * keys go to a 0600 file named in `GIT_SSH_COMMAND`, their passphrase through
 * `SSH_ASKPASS`, both in an owned 0700 folder under `tempRoot` (see
 * `gitTempRoot`) that `cleanup` removes. `git://` carries no credential.
 * Nothing secret reaches argv or the mirror's config. Host keys: trust on
 * first use, recorded in `knownHostsFile`; a changed key is refused.
 */
export async function prepareGitEnv(
  repo: ParsedRepository,
  auth: GitAuth | undefined,
  knownHostsFile: string,
  tempRoot: string,
): Promise<PreparedGitEnv> {
  const dir = await makeOwnedTempDir(tempRoot, "git");
  const cleanup = () => removeOwnedTempDir(dir, tempRoot);
  try {
    const config: Array<[string, string]> = [
      ["credential.helper", ""],
      ["http.followRedirects", "initial"],
    ];
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: dir,
      LC_ALL: "C",
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_ALLOW_PROTOCOL: allowedProtocols,
    };
    const password = auth?.password ?? repo.urlPassword;
    const hasPassword = password !== undefined && !password.isEmpty;
    if (hasPassword && (repo.transport === "https" || repo.transport === "http")) {
      const username = auth?.username || repo.urlUsername || "git";
      if (/[\0\r\n]/.test(username)) throw new UnsafePathError("git username", username, "a name without line breaks");
      if (/[\0\r\n]/.test(password.unwrap())) throw new DomainError("invalidArgument", "git password is not valid: expected a value without line breaks");
      config.push([`credential.${new URL(repo.url).origin}.helper`, HELPER]);
      env["BUILDPLANE_GIT_USERNAME"] = username;
      env["BUILDPLANE_GIT_PASSWORD"] = password.unwrap();
    }
    if (repo.transport === "ssh") {
      if (hasPassword) {
        // The password is the key's passphrase: ssh asks this helper for it.
        const askpass = join(dir, "askpass.sh");
        await writeFile(askpass, ASKPASS, { mode: 0o700 });
        env["SSH_ASKPASS"] = askpass;
        env["SSH_ASKPASS_REQUIRE"] = "force";
        env["BUILDPLANE_ASKPASS_PASSWORD"] = password.unwrap();
      }
      env["GIT_SSH_COMMAND"] = await sshCommand(dir, sshUserInUrl(repo.url), auth, knownHostsFile, hasPassword);
    }
    env["GIT_CONFIG_COUNT"] = String(config.length);
    config.forEach(([key, value], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = key;
      env[`GIT_CONFIG_VALUE_${i}`] = value;
    });
    return { env, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function sshCommand(
  dir: string,
  urlUser: string,
  auth: GitAuth | undefined,
  knownHostsFile: string,
  hasPassphrase: boolean,
): Promise<string> {
  const opts = [
    "ssh", "-F", "/dev/null",
    "-o", "StrictHostKeyChecking=accept-new",
    "-o", `UserKnownHostsFile=${quote(knownHostsFile)}`,
    "-o", "PasswordAuthentication=no",
    "-o", "KbdInteractiveAuthentication=no",
  ];
  // `-o User=` would override the user the URL names (ssh://root@host): set it only when the URL names none.
  if (urlUser === "") {
    const user = auth?.username || "git";
    if (!/^[A-Za-z0-9._-]+$/.test(user)) throw new UnsafePathError("git user", user, "letters, digits, '.', '_' or '-'");
    opts.push("-o", `User=${user}`);
  }
  let keyFile = auth?.keyFilePath ?? "";
  if (auth?.privateKey !== undefined && !auth.privateKey.isEmpty) {
    keyFile = join(dir, "id_key");
    const pem = auth.privateKey.unwrap();
    await writeFile(keyFile, pem.endsWith("\n") ? pem : `${pem}\n`, { mode: 0o600 });
  }
  if (keyFile !== "") opts.push("-i", quote(keyFile), "-o", "IdentitiesOnly=yes");
  if (!hasPassphrase) opts.push("-o", "BatchMode=yes");
  return opts.join(" ");
}

/** The user an ssh:// or `user@host:path` URL names; "" when none. */
function sshUserInUrl(url: string): string {
  if (/^ssh:\/\//i.test(url)) return decodeURIComponent(new URL(url).username);
  const host = url.split(":")[0] ?? "";
  const at = host.lastIndexOf("@");
  return at > 0 ? host.slice(0, at) : "";
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
