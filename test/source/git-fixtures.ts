import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import { connect, createServer as createNetServer, type AddressInfo } from "node:net";

/** Environment for fixture git commands: fixed identity and dates, no user config. */
export const fixtureEnv = {
  PATH: process.env["PATH"] ?? "/usr/bin:/bin",
  HOME: "/nonexistent",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_AUTHOR_DATE: "2020-01-01T00:00:00Z",
  GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com", GIT_COMMITTER_DATE: "2020-01-01T00:00:00Z",
};

/** Runs git for a fixture and returns trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: fixtureEnv, encoding: "utf8", maxBuffer: 1 << 28 }).trim();
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** `git daemon` serving every repository under `base` on loopback. */
export async function startGitDaemon(base: string): Promise<{ url: (name: string) => string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn("git", ["daemon", "--reuseaddr", "--export-all", `--base-path=${base}`, `--port=${port}`, "--listen=127.0.0.1", base], {
    env: fixtureEnv, stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, "127.0.0.1", () => { c.destroy(); r(true); });
      c.on("error", () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: (name) => `git://127.0.0.1:${port}/${name}`,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
    },
  };
}

/** A smart-HTTP server: Node http → `git http-backend`, Basic auth, a request log. */
export interface HttpGit {
  url(name: string): string;
  readonly requests: string[];
  /** Requests for a repository whose name starts with "hang" are held open; resolves when one arrives, and when its socket closes. */
  readonly hung: { arrived: Promise<void>; closed: Promise<void> };
  stop(): Promise<void>;
}

export async function startHttpGit(base: string, user: string, password: string): Promise<HttpGit> {
  const requests: string[] = [];
  let arrived!: () => void;
  let closed!: () => void;
  const hung = { arrived: new Promise<void>((r) => (arrived = r)), closed: new Promise<void>((r) => (closed = r)) };
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    requests.push(`${req.method} ${u.pathname}${u.search}`);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
      return;
    }
    if (u.pathname.startsWith("/hang")) {
      arrived();
      req.socket.on("close", () => closed());
      return;
    }
    const cgi = spawn("git", ["http-backend"], {
      env: {
        ...fixtureEnv, GIT_PROJECT_ROOT: base, GIT_HTTP_EXPORT_ALL: "1", REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: u.pathname, QUERY_STRING: u.search.slice(1), CONTENT_TYPE: req.headers["content-type"] ?? "",
        REMOTE_USER: user, REMOTE_ADDR: "127.0.0.1", GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let sent = false;
    cgi.stdout.on("data", (d: Buffer) => {
      if (sent) return void res.write(d);
      head = Buffer.concat([head, d]);
      const i = head.indexOf("\r\n\r\n");
      if (i < 0) return;
      sent = true;
      let status = 200;
      for (const line of head.subarray(0, i).toString().split("\r\n")) {
        const [k, ...v] = line.split(":");
        if (k === undefined) continue;
        if (k.toLowerCase() === "status") status = Number(v.join(":").trim().split(" ")[0]);
        else res.setHeader(k, v.join(":").trim());
      }
      res.writeHead(status);
      res.write(head.subarray(i + 4));
    });
    cgi.on("close", () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    requests,
    hung,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** Builds `count` commits on main with fast-import, each touching `noise/n.txt`. */
export function addHistory(repo: string, count: number): void {
  let script = "";
  const head = git(repo, "rev-parse", "HEAD");
  for (let i = 0; i < count; i++) {
    const body = `change ${i}\n`;
    script += `commit refs/heads/main\ncommitter t <t@example.com> ${1577836800 + i} +0000\ndata 4\nc${String(i).padStart(2, "0")}\n`;
    if (i === 0) script += `from ${head}\n`;
    script += `M 100644 inline noise/n.txt\ndata ${Buffer.byteLength(body)}\n${body}\n`;
  }
  execFileSync("git", ["fast-import", "--quiet"], { cwd: repo, env: fixtureEnv, input: script });
}

/** Every file below `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every process's argv on this machine, concatenated: a secret in any of them shows up here. */
export function procCmdlines(): string {
  let all = "";
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      all += readFileSync(`/proc/${pid}/cmdline`, "latin1");
    } catch {
      // the process is gone
    }
  }
  return all;
}
