import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fixtureEnv, freePort } from "./git-fixtures.js";

/** An ed25519 key pair made by ssh-keygen, without a passphrase. */
export interface SshKey {
  /** Path of the private key file (0600, as ssh-keygen writes it). */
  readonly path: string;
  /** The private key's PEM text. */
  readonly privateKey: string;
  readonly publicKey: string;
}

/** Makes a key pair in `dir` named `name`. */
export function makeSshKey(dir: string, name: string): SshKey {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], { env: fixtureEnv });
  return { path, privateKey: readFileSync(path, "utf8"), publicKey: readFileSync(`${path}.pub`, "utf8").trim() };
}

/** A running sshd on loopback that lets `root` in with the authorized keys. */
export interface SshServer {
  readonly port: number;
  /** `ssh://root@127.0.0.1:<port><absolute path>`. */
  url(absolutePath: string): string;
  stop(): Promise<void>;
}

/**
 * Starts `/usr/sbin/sshd` (must run as root) in the foreground on a free
 * loopback port, with a host key, config, pid file and authorized_keys all
 * inside `dir`. Each authorized key runs `forcedCommand` when given (sshd
 * passes the client's command in SSH_ORIGINAL_COMMAND), so a test can look
 * at the machine while a fetch is connected.
 */
export async function startSshd(dir: string, authorized: readonly SshKey[], forcedCommand?: string): Promise<SshServer> {
  // Debian's sshd refuses to start without its privilege separation folder.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const hostKey = join(dir, "ssh_host_ed25519_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey], { env: fixtureEnv });
  const option = forcedCommand === undefined ? "" : `command="${forcedCommand}",no-pty,no-port-forwarding `;
  writeFileSync(join(dir, "authorized_keys"), authorized.map((k) => `${option}${k.publicKey}\n`).join(""), { mode: 0o600 });
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(config, [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "StrictModes no",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    "",
  ].join("\n"));
  const child = spawn("/usr/sbin/sshd", ["-f", config, "-D", "-e"], { env: fixtureEnv, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => { if (log.length < 65536) log += d; });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, "127.0.0.1", () => { c.destroy(); r(true); });
      c.on("error", () => r(false));
    });
    if (ok) break;
    if (child.exitCode !== null || i >= 100) {
      child.kill("SIGKILL");
      throw new Error(`sshd did not start on port ${port}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: (path) => `ssh://root@127.0.0.1:${port}${path}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
