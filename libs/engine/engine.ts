import type { Readable } from "node:stream";
import { buildImage, type BuildImageOptions, type BuildImageResult, type OnBuildLine } from "./build-image.js";
import { resolveEngineEndpoint, type ContainerCommand, type EngineEndpoint } from "./engine-endpoint.js";
import { EngineUnavailableError, ImageNotFoundError } from "./engine-errors.js";
import { EngineAgent } from "./engine-agent.js";
import { classifyEngineError, dial, type Modem } from "./engine-request.js";
import { imagePath } from "./image-path.js";

/** Which engine answers and its version. */
export interface EngineInfo {
  readonly name: "docker" | "podman";
  readonly version: string;
  readonly apiVersion: string;
}

/** Whether an image is in the local engine. */
export interface ImagePresence {
  readonly exists: boolean;
  /** `sha256:…` image id; "" when absent. */
  readonly id: string;
  /** Registry manifest digest (`sha256:…`) when the image was pushed or pulled. */
  readonly digest?: string;
  /** The image's labels (`Config.Labels`); garbage collection deletes only images with buildplane's. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The local container engine (Docker, or Podman's Docker-compatible API
 * service) as the builder, the resolver and the registry client need it.
 * Every call takes a signal; failures are typed `DomainError`s naming the
 * endpoint or the image.
 */
export interface Engine {
  /** `unix:///var/run/docker.sock` or `tcp://…`, for messages. */
  readonly endpoint: string;
  ping(signal?: AbortSignal): Promise<void>;
  info(signal?: AbortSignal): Promise<EngineInfo>;
  build(options: BuildImageOptions, onLine: OnBuildLine, signal: AbortSignal): Promise<BuildImageResult>;
  hasImage(ref: string, signal?: AbortSignal): Promise<ImagePresence>;
  /** The `docker save` tarball of `ref` (manifest.json, config, layers), streamed. */
  exportImage(ref: string, signal: AbortSignal): Promise<Readable>;
  /** Gives image `ref` the additional name `target` (`repo[:tag]`). */
  tag(ref: string, target: string, signal?: AbortSignal): Promise<void>;
  /** Removes the name (and the image when no other name holds it); false when it did not exist. */
  removeImage(ref: string, options?: { force?: boolean }, signal?: AbortSignal): Promise<boolean>;
}

/** `[system] container_command` plus where to find the socket. */
export interface EngineOptions {
  readonly command: ContainerCommand;
  /** Overrides every other way of finding the socket. */
  readonly socketPath?: string | undefined;
  /** `DOCKER_HOST` and `XDG_RUNTIME_DIR`, as read by the config library. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Connects to the engine `options.command` names (`auto`: Podman when its
 * socket answers, else Docker). Nothing is sent until the first call, except
 * the socket probes of `auto`.
 */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  return createEngineAt(await resolveEngineEndpoint(options));
}

/** How the engine's connections are made. */
export interface EngineConnectionOptions {
  /** Write buffer of each connection (`EngineAgent`); 1 MiB when absent. */
  readonly writeBufferBytes?: number;
}

/** An engine at a known endpoint. */
export function createEngineAt(endpoint: EngineEndpoint, connections: EngineConnectionOptions = {}): Engine {
  const modem = lazyModem(endpoint, connections);
  const label = endpoint.label;
  let cachedInfo: Promise<EngineInfo> | undefined;
  let cachedStopBy: Promise<"disconnect" | "kill-cgroup"> | undefined;

  const info = (signal?: AbortSignal): Promise<EngineInfo> => {
    const fetchInfo = async (): Promise<EngineInfo> => {
      const v = (await dial(modem, { path: "/version", method: "GET", abortSignal: signal, statusCodes: { 200: true } })
        .catch((err: unknown) => { throw classifyEngineError(err, { operation: "engine version", endpoint: label, signal }); })) as VersionReply;
      const podman = (v.Components ?? []).some((c) => /podman/i.test(c.Name ?? ""));
      return { name: podman ? "podman" : "docker", version: v.Version ?? "", apiVersion: v.ApiVersion ?? "" };
    };
    cachedInfo ??= fetchInfo().catch((err: unknown) => {
      cachedInfo = undefined;
      throw err;
    });
    return cachedInfo;
  };

  const inspect = async (ref: string, signal?: AbortSignal): Promise<InspectReply> =>
    (await dial(modem, { path: imagePath(ref, "/json"), method: "GET", abortSignal: signal, statusCodes: { 200: true, 404: "no such image", 500: "server error" } })
      .catch((err: unknown) => { throw classifyEngineError(err, { operation: `inspect of image "${ref}"`, endpoint: label, signal, image: ref }); })) as InspectReply;

  return {
    endpoint: label,

    async ping(signal) {
      const reply = await dial(modem, { path: "/_ping", method: "GET", abortSignal: signal, statusCodes: { 200: true, 500: "server error" } })
        .catch((err: unknown) => { throw classifyEngineError(err, { operation: "engine ping", endpoint: label, signal }); });
      if (String(reply).trim() !== "OK") throw new EngineUnavailableError(label, "ping did not answer OK");
    },

    info,

    async build(options, onLine, signal) {
      const { name } = await info(signal);
      cachedStopBy ??= name === "docker" ? Promise.resolve("disconnect") : podmanStopBy(modem);
      const stopBy = await cachedStopBy;
      return buildImage(
        { modem, endpoint: label, stopBy, imageId: async (ref, s) => (await inspect(ref, s)).Id ?? "" },
        options, onLine, signal,
      );
    },

    async hasImage(ref, signal) {
      try {
        const image = await inspect(ref, signal);
        const digest = (image.RepoDigests ?? []).map((d) => d.slice(d.indexOf("@") + 1)).find((d) => d.startsWith("sha256:"));
        const labels = { ...(image.Config?.Labels ?? {}) };
        return digest === undefined ? { exists: true, id: image.Id ?? "", labels } : { exists: true, id: image.Id ?? "", digest, labels };
      } catch (err) {
        if (err instanceof ImageNotFoundError) return { exists: false, id: "" };
        throw err;
      }
    },

    async exportImage(ref, signal) {
      return (await dial(modem, { path: imagePath(ref, "/get"), method: "GET", isStream: true, abortSignal: signal, statusCodes: { 200: true, 404: "no such image", 500: "server error" } })
        .catch((err: unknown) => { throw classifyEngineError(err, { operation: `export of image "${ref}"`, endpoint: label, signal, image: ref }); })) as Readable;
    },

    async tag(ref, target, signal) {
      const [repo, tag] = splitTag(target);
      await dial(modem, { path: imagePath(ref, "/tag?"), method: "POST", options: { repo, tag }, abortSignal: signal, statusCodes: { 200: true, 201: true, 400: "bad parameter", 404: "no such image", 409: "conflict", 500: "server error" } })
        .catch((err: unknown) => { throw classifyEngineError(err, { operation: `tag of image "${ref}" as "${target}"`, endpoint: label, signal, image: ref }); });
    },

    async removeImage(ref, options, signal) {
      try {
        await dial(modem, { path: imagePath(ref, "?"), method: "DELETE", options: { force: options?.force === true }, abortSignal: signal, statusCodes: { 200: true, 404: "no such image", 409: "conflict", 500: "server error" } });
        return true;
      } catch (err) {
        const classified = classifyEngineError(err, { operation: `removal of image "${ref}"`, endpoint: label, signal, image: ref });
        if (classified instanceof ImageNotFoundError) return false;
        throw classified;
      }
    },
  };
}

/**
 * docker-modem for the endpoint, loaded on the first request: the commands
 * that never reach the engine do not load it (nor ssh2, which it requires).
 * Its connections are `EngineAgent`'s, whose write buffer keeps a build
 * context flowing into the engine.
 */
function lazyModem(endpoint: EngineEndpoint, connections: EngineConnectionOptions): Modem {
  let loaded: Promise<Modem> | undefined;
  return {
    dial(options, callback) {
      loaded ??= import("docker-modem").then(({ default: DockerModem }) => {
        const agent = new EngineAgent(connections.writeBufferBytes);
        return endpoint.kind === "socket"
          ? new DockerModem({ socketPath: endpoint.socketPath, agent })
          : new DockerModem({ host: endpoint.host, port: endpoint.port, protocol: "http", agent });
      });
      loaded.then((m) => m.dial(options, callback), (err: unknown) => callback(err, undefined));
    },
  };
}

async function podmanStopBy(modem: Modem): Promise<"disconnect" | "kill-cgroup"> {
  const reply = await dial(modem, { path: "/v4.0.0/libpod/info", method: "GET", statusCodes: { 200: true } }).catch(() => undefined);
  const host = typeof reply === "object" && reply !== null && "host" in reply ? reply.host : undefined;
  const manager = typeof host === "object" && host !== null && "cgroupManager" in host ? host.cgroupManager : undefined;
  return manager === "cgroupfs" ? "kill-cgroup" : "disconnect";
}

/** `host:5000/a/b:t` → [`host:5000/a/b`, `t`]; without a tag, `latest`. */
export function splitTag(ref: string): [string, string] {
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, "latest"];
}

interface VersionReply {
  readonly Version?: string;
  readonly ApiVersion?: string;
  readonly Components?: readonly { readonly Name?: string }[];
}

interface InspectReply {
  readonly Id?: string;
  readonly Config?: { readonly Labels?: Readonly<Record<string, string>> | null };
  readonly RepoDigests?: readonly string[];
}
