/**
 * The environment variables that locate the container engine's socket
 * (`DOCKER_HOST`, `XDG_RUNTIME_DIR`), read here so that the rest of the code
 * never touches `process.env`.
 */
export function engineEnvironment(env: NodeJS.ProcessEnv = process.env): Readonly<Record<string, string | undefined>> {
  return Object.freeze({ DOCKER_HOST: env["DOCKER_HOST"], XDG_RUNTIME_DIR: env["XDG_RUNTIME_DIR"] });
}
