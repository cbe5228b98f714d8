import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DomainError } from "../errors/domain-error.js";
import { commandKind, parseDockerHost, resolveEngineEndpoint } from "./engine-endpoint.js";

const answering = (...paths: string[]) => async (p: string) => paths.includes(p);

describe("resolveEngineEndpoint", () => {
  const cases: { name: string; options: Parameters<typeof resolveEngineEndpoint>[0]; label: string }[] = [
    { name: "uses an explicit socket path before anything else", options: { command: "podman", socketPath: "/x.sock", env: { DOCKER_HOST: "unix:///y.sock" } }, label: "unix:///x.sock" },
    { name: "uses DOCKER_HOST before the usual sockets", options: { command: "auto", env: { DOCKER_HOST: "unix:///y.sock" }, probe: answering("/run/podman/podman.sock") }, label: "unix:///y.sock" },
    { name: "uses Docker's socket for docker", options: { command: "docker", probe: answering("/run/podman/podman.sock") }, label: "unix:///var/run/docker.sock" },
    { name: "uses Docker's socket for an absolute path to docker", options: { command: "/usr/bin/docker" }, label: "unix:///var/run/docker.sock" },
    { name: "picks Podman for auto when its root socket answers", options: { command: "auto", probe: answering("/run/podman/podman.sock") }, label: "unix:///run/podman/podman.sock" },
    { name: "picks the rootless Podman socket under XDG_RUNTIME_DIR", options: { command: "auto", env: { XDG_RUNTIME_DIR: "/run/user/1000" }, probe: answering("/run/user/1000/podman/podman.sock") }, label: "unix:///run/user/1000/podman/podman.sock" },
    { name: "falls back to Docker for auto when no Podman socket answers", options: { command: "auto", probe: answering() }, label: "unix:///var/run/docker.sock" },
    { name: "names Podman's socket for podman even when it does not answer", options: { command: "/usr/bin/podman", probe: answering() }, label: "unix:///run/podman/podman.sock" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      assert.equal((await resolveEngineEndpoint(c.options)).label, c.label);
    });
  }
});

describe("parseDockerHost", () => {
  it("reads tcp://host:port as a plain HTTP endpoint", () => {
    assert.deepEqual(parseDockerHost("tcp://127.0.0.1:2375"), { kind: "tcp", host: "127.0.0.1", port: 2375, label: "tcp://127.0.0.1:2375" });
  });

  it("rejects ssh:// with invalidArgument naming the value", () => {
    assert.throws(() => parseDockerHost("ssh://me@box"), (err: DomainError) => {
      assert.equal(err.code, "invalidArgument");
      assert.equal(err.message, 'DOCKER_HOST "ssh://me@box" is not supported: expected unix:///path/to/socket or tcp://host:port');
      return true;
    });
  });
});

it("commandKind tells docker, podman and auto apart from names and paths", () => {
  assert.deepEqual(["docker", "/usr/local/bin/docker", "podman", "/opt/podman-remote", "auto", "nerdctl"].map(commandKind),
    ["docker", "docker", "podman", "podman", "auto", "auto"]);
});
