import { request } from "node:http";
import { UnsupportedDockerHostError } from "./engine-errors.js";

/** Which engine `[system] container_command` asks for. */
export type ContainerCommand = "auto" | "docker" | "podman" | (string & {});

/** How to reach an Engine API. */
export type EngineEndpoint =
  | { readonly kind: "socket"; readonly socketPath: string; readonly label: string }
  | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly label: string };

/** Inputs of the endpoint choice; `env` carries DOCKER_HOST and XDG_RUNTIME_DIR. */
export interface EndpointOptions {
  readonly command: ContainerCommand;
  readonly socketPath?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Answers whether a socket serves the Engine API (tests pass their own). */
  readonly probe?: (socketPath: string) => Promise<boolean>;
}

export const DOCKER_SOCKET = "/var/run/docker.sock";
export const PODMAN_ROOT_SOCKET = "/run/podman/podman.sock";

/**
 * Chooses the Engine API endpoint: an explicit socket path first, then
 * `DOCKER_HOST` (`unix://…` or `tcp://host:port`), then the usual socket of
 * the engine the command names. `auto` (and an unknown command name) picks
 * Podman when one of its sockets answers, else Docker; an absolute command
 * path counts as podman when its file name says so.
 */
export async function resolveEngineEndpoint(options: EndpointOptions): Promise<EngineEndpoint> {
  if (options.socketPath !== undefined && options.socketPath !== "") return socket(options.socketPath);
  const dockerHost = options.env?.["DOCKER_HOST"];
  if (dockerHost !== undefined && dockerHost !== "") return parseDockerHost(dockerHost);

  const podmanSockets = [PODMAN_ROOT_SOCKET];
  const runtimeDir = options.env?.["XDG_RUNTIME_DIR"];
  if (runtimeDir !== undefined && runtimeDir !== "") podmanSockets.push(`${runtimeDir}/podman/podman.sock`);

  const kind = commandKind(options.command);
  const probe = options.probe ?? pingSocket;
  if (kind === "docker") return socket(DOCKER_SOCKET);
  for (const path of podmanSockets) {
    if (await probe(path)) return socket(path);
  }
  // Asked for podman and none answers: name the usual socket in later errors.
  return socket(kind === "podman" ? podmanSockets[podmanSockets.length - 1] ?? PODMAN_ROOT_SOCKET : DOCKER_SOCKET);
}

/** docker, podman or auto, from a command name or an absolute path to the binary. */
export function commandKind(command: ContainerCommand): "docker" | "podman" | "auto" {
  const name = command.slice(command.lastIndexOf("/") + 1);
  if (name.includes("podman")) return "podman";
  if (name.includes("docker")) return "docker";
  return "auto";
}

/** Parses `unix:///path` or `tcp://host:port` (plain HTTP) into an endpoint. */
export function parseDockerHost(value: string): EngineEndpoint {
  if (value.startsWith("unix://")) return socket(value.slice("unix://".length));
  const tcp = /^(?:tcp|http):\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(value);
  if (tcp?.[1] !== undefined && tcp[2] !== undefined) {
    return { kind: "tcp", host: tcp[1].replace(/^\[|\]$/g, ""), port: Number(tcp[2]), label: value };
  }
  if (value.startsWith("/")) return socket(value);
  throw new UnsupportedDockerHostError(value);
}

function socket(socketPath: string): EngineEndpoint {
  return { kind: "socket", socketPath, label: `unix://${socketPath}` };
}

/** True when `GET /_ping` on the unix socket answers 200 within a second. */
export function pingSocket(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: "/_ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}
