import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import { test } from "node:test";
import { isPidAlive } from "./pid-alive.js";

const limit = { timeout: 30_000 };

test("sees a killed child process as gone once it was reaped, and this process as alive", limit, async () => {
  assert.equal(isPidAlive(process.pid), true);
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  await once(child, "spawn");
  const pid = child.pid ?? 0;
  assert.equal(isPidAlive(pid), true);
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
  assert.equal(isPidAlive(pid), false);
});

test("sees a zombie (killed, its parent not reaping it) as gone though its pid still answers signals", limit, async () => {
  // The shell starts a sleep, kills it and turns into a process that never reaps it.
  const parent = spawn("sh", ["-c", 'sleep 1000 & echo $!; kill -9 $!; exec sleep 30'], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const [line] = (await once(parent.stdout, "data")) as [Buffer];
    const pid = Number(line.toString().trim());
    const state = (): string => {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    };
    while (state() !== "Z") await new Promise((r) => setImmediate(r));
    process.kill(pid, 0); // the pid exists
    assert.equal(isPidAlive(pid), false);
  } finally {
    parent.kill("SIGKILL");
  }
});
