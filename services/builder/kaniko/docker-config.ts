import type { RegistryTarget } from "../../../libs/registry/registry-target.js";

/** The registry host (`host[:port]`) of a `host[:port][/path]` URL. */
export function registryHost(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, "").split("/")[0] ?? "";
}

/**
 * The docker `config.json` Kaniko reads for pushing: `credHelpers` for ECR
 * (Kaniko's built-in ECR helper and the pod's AWS identity), basic auth when
 * a user and password are set, else an empty config. The text holds the
 * password in clear: it goes only into a Secret's data.
 */
export function dockerConfigJson(target: RegistryTarget): string {
  const host = registryHost(target.url);
  if (target.type === "ecr") return JSON.stringify({ credHelpers: { [host]: "ecr-login" } });
  const password = target.password?.unwrap() ?? "";
  if (target.username !== "" && password !== "") {
    const auth = Buffer.from(`${target.username}:${password}`).toString("base64");
    return JSON.stringify({ auths: { [host]: { auth, username: target.username, password } } });
  }
  return JSON.stringify({});
}
