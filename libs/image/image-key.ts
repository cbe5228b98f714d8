import { createHash, createHmac } from "node:crypto";
import type { Secret } from "../secret/secret.js";
import { InvalidImageInputError, MissingInstallKeyError } from "./errors.js";
import { repositoryWithoutCredentials } from "./repository-without-credentials.js";

/** One build arg as it enters the key; a secret value stays wrapped. */
export interface ImageKeyArg {
  readonly name: string;
  readonly value: string | Secret;
  readonly secret: boolean;
}

/**
 * Every input that decides what image gets built, and nothing else: runtime
 * settings (env, params, volumes, registry) are absent on purpose, so
 * changing them never forces a rebuild.
 */
export interface ImageInputs {
  /** App id; "" names the image after the repository and folder. */
  readonly appId: string;
  readonly repository: string;
  readonly dir: string;
  /** Git tree hash (or content hash) of the build folder. */
  readonly treeHash: string;
  /** Containerfile path relative to the folder, as resolved by the source service. */
  readonly containerfile: string;
  readonly args: readonly ImageKeyArg[];
  readonly target: string;
  readonly platform: string;
}

const keyVersion = "buildplane-image-key-v1";

/**
 * The content key of a build: sha256 hex over the inputs, each written
 * followed by a NUL byte (OpenRun's getValuesHash shape), build args sorted
 * by name. A secret arg contributes HMAC-SHA256(installKey, name NUL value):
 * a new value gives a new image, yet the key (published in image names and
 * labels) cannot be used to test guesses of the value offline without the
 * install's random key, which never leaves the install. Without secret args
 * the same inputs give the same key on every machine. The repository enters
 * without URL credentials: a token never feeds the hash and rotating it
 * keeps the key.
 */
export function computeImageKey(inputs: ImageInputs, installKey?: Uint8Array): string {
  if (inputs.treeHash === "") throw new InvalidImageInputError("treeHash", "tree hash is empty: expected the hash of the build folder");
  const values: string[] = [keyVersion];
  if (inputs.appId !== "") values.push("app", inputs.appId);
  else values.push("source", repositoryWithoutCredentials(inputs.repository), inputs.dir);
  values.push(inputs.treeHash, inputs.containerfile, inputs.target, inputs.platform, String(inputs.args.length));
  for (const arg of sortArgs(inputs.args)) {
    const value = typeof arg.value === "string" ? arg.value : arg.value.unwrap();
    values.push(arg.name, arg.secret ? `install-hmac-sha256:${secretDigest(arg.name, value, installKey)}` : `plain:${value}`);
  }
  const hash = createHash("sha256");
  for (const v of values) {
    if (v.includes("\0")) throw new InvalidImageInputError("input", `build input ${JSON.stringify(v.slice(0, 40))} contains a NUL byte: expected text without NUL`);
    hash.update(v, "utf8").update("\0");
  }
  return hash.digest("hex");
}

function secretDigest(name: string, value: string, installKey: Uint8Array | undefined): string {
  if (installKey === undefined || installKey.length < 16) throw new MissingInstallKeyError(name);
  return createHmac("sha256", installKey).update(name).update("\0").update(value).digest("hex");
}

/** Args sorted by name (code-unit order, locale-independent); a name given twice is an error. */
export function sortArgs<T extends { readonly name: string }>(args: readonly T[]): T[] {
  const sorted = [...args].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const name = sorted[i]?.name ?? "";
    if (name === sorted[i - 1]?.name) {
      throw new InvalidImageInputError(`args.${name}`, `build arg ${JSON.stringify(name)} is given twice: expected each name once`);
    }
  }
  for (const a of sorted) {
    if (a.name === "") throw new InvalidImageInputError("args", "a build arg has an empty name: expected a name");
  }
  return sorted;
}
