import { createRequire } from "node:module";
import { DomainError } from "../../../libs/errors/domain-error.js";
import { qualifiedReference } from "../../../libs/image/qualified-reference.js";
import { confinedRelativePath } from "../../../libs/paths/relative-path.js";
import type { RegistryTarget } from "../../../libs/registry/registry-target.js";
import { secretOrUndefined } from "../../../libs/secret/secret.js";
import type { BuildJobArg } from "../image-builder.js";

/**
 * OpenRun's wire format, both ways: `POST /_openrun/delegate_build` with a
 * multipart body of a `meta` part (JSON, OpenRun's Go field names) and a
 * `file` part (the context as tar.gz). The node endpoint (`openrun/`)
 * decodes it, the OpenRun node client (`delegate/openrun-node.ts`) encodes
 * it; neither folder imports the other.
 */

/** OpenRun's delegate path on builder nodes. */
export const openRunDelegatePath = "/_openrun/delegate_build";
/** OpenRun's health path, which OpenRun-format clients may probe. */
export const openRunHealthPath = "/_openrun/health";
/** The form name of the meta part. */
export const metaPartName = "meta";
/** The form name of the context part. */
export const filePartName = "file";

/** A delegate request whose `meta` part is missing, malformed or asks for something refused. */
export class OpenRunRequestError extends DomainError {
  constructor(message: string) {
    super("invalidArgument", message);
  }
}

/**
 * The `meta` schema, made on first use: zod loads (through `require`, so
 * the parser stays synchronous) only in a process that receives OpenRun
 * requests, not in every command that composes a builder.
 */
function metaSchemas() {
  const { z } = createRequire(import.meta.url)("zod") as typeof import("zod");
  const str = z.string().optional().default("");
  /**
   * OpenRun's `types.RegistryConfig` with its Go field names; `CAPem`,
   * `ClientCertPem` and `ClientKeyPem` are buildplane's additions, since
   * OpenRun can only name files for these.
   */
  const registrySchema = z.object({
    URL: str, Project: str, Type: str, Username: str, Password: str,
    PasswordFile: str, CAFile: str, ClientCertFile: str, ClientKeyFile: str,
    Insecure: z.boolean().optional().default(false), AWSRegion: str,
    CAPem: str, ClientCertPem: str, ClientKeyPem: str,
  });
  const metaSchema = z.object({
    ImageTag: z.string(),
    ContainerFile: str,
    ContainerArgs: z.record(z.string(), z.string()).nullable().optional(),
    RegistryConfig: registrySchema.nullable().optional(),
  });
  return { z, metaSchema };
}

let schemas: ReturnType<typeof metaSchemas> | undefined;

/** The build an OpenRun `meta` part asks for. */
export interface OpenRunBuildSpec {
  readonly name: string;
  readonly reference: string;
  readonly containerfile: string;
  readonly args: readonly BuildJobArg[];
  readonly registry: RegistryTarget;
}

const fileFields = [
  ["PasswordFile", "Password"],
  ["CAFile", "CAPem"],
  ["ClientCertFile", "ClientCertPem"],
  ["ClientKeyFile", "ClientKeyPem"],
] as const;
const argName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Validates the `meta` JSON of `POST /_openrun/delegate_build`. Unlike
 * OpenRun's builder, fields naming files on this machine and `Type = ecr`
 * (this machine's cloud identity) are refused: the sender passes
 * credentials as values. `ContainerArgs` are ordinary build args, as in
 * OpenRun: the protocol has no secret args, so their values are plain (and
 * land in the image history like any `--build-arg`).
 */
export function parseOpenRunMeta(text: string): OpenRunBuildSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new OpenRunRequestError(`meta part is not valid JSON: ${(err as Error).message}`);
  }
  schemas ??= metaSchemas();
  const { z, metaSchema } = schemas;
  const parsed = metaSchema.safeParse(json);
  if (!parsed.success) {
    throw new OpenRunRequestError(`meta part is not valid: ${z.prettifyError(parsed.error).replaceAll("\n", " ")}`);
  }
  const meta = parsed.data;
  const r = meta.RegistryConfig;
  if (!r || r.URL === "") throw new OpenRunRequestError("meta.RegistryConfig.URL is empty: the sender must name the registry to push to");
  for (const [field, instead] of fileFields) {
    if (r[field] !== "") {
      throw new OpenRunRequestError(
        `meta.RegistryConfig.${field} is refused: this builder node reads no file named by the sender; send the value in ${instead} instead`,
      );
    }
  }
  if (r.Type.toLowerCase() === "ecr") {
    throw new OpenRunRequestError(
      "meta.RegistryConfig.Type ecr is refused: this builder node uses no cloud identity of its own; obtain the ECR token on the sender and send Username AWS and the token as Password",
    );
  }
  if (r.Type !== "") throw new OpenRunRequestError(`meta.RegistryConfig.Type ${JSON.stringify(r.Type)} is not valid: expected "" or "ecr"`);
  if (meta.ImageTag === "") throw new OpenRunRequestError("meta.ImageTag is empty: expected a name such as cli-app:0123456789abcdef");
  const registry: RegistryTarget = {
    url: r.URL,
    project: r.Project,
    type: "",
    insecure: r.Insecure,
    username: r.Username,
    password: secretOrUndefined(r.Password),
    caPem: r.CAPem,
    clientCertPem: r.ClientCertPem,
    clientKeyPem: secretOrUndefined(r.ClientKeyPem),
    awsRegion: "",
  };
  const args = Object.entries(meta.ContainerArgs ?? {})
    .map(([name, value]) => {
      if (!argName.test(name)) throw new OpenRunRequestError(`meta.ContainerArgs key "${name}" is not valid: expected letters, digits and _, not starting with a digit`);
      return { name, value };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    name: meta.ImageTag,
    reference: qualifiedReference({ url: r.URL, project: r.Project }, meta.ImageTag),
    containerfile: confinedRelativePath("meta.ContainerFile", meta.ContainerFile) || "Dockerfile",
    args,
    registry,
  };
}

/** What the sender puts in a `meta` part: plain build args, credentials as values. */
export interface OpenRunMetaInput {
  readonly name: string;
  readonly containerfile: string;
  readonly args: Readonly<Record<string, string>>;
  readonly registry: RegistryTarget;
}

/**
 * The `meta` JSON for a build. OpenRun's builder ignores
 * `RegistryConfig.Project` when pushing, so the project is folded into `URL`
 * and the image lands at the one qualified reference.
 */
export function encodeOpenRunMeta(input: OpenRunMetaInput): string {
  const r = input.registry;
  return JSON.stringify({
    ImageTag: input.name,
    ContainerFile: input.containerfile,
    ContainerArgs: input.args,
    RegistryConfig: {
      URL: r.project ? `${r.url.replace(/\/+$/, "")}/${r.project.replace(/^\/+|\/+$/g, "")}` : r.url,
      Project: "", Type: "", Username: r.username, Password: r.password?.unwrap() ?? "",
      PasswordFile: "", CAFile: "", ClientCertFile: "", ClientKeyFile: "",
      Insecure: r.insecure, AWSRegion: "",
      CAPem: r.caPem, ClientCertPem: r.clientCertPem, ClientKeyPem: r.clientKeyPem?.unwrap() ?? "",
    },
  });
}

/** The multipart body: the meta part, then the file part streaming `contextGz`, then the closing boundary. */
export async function* encodeOpenRunBody(boundary: string, meta: string, fileName: string, contextGz: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${metaPartName}"\r\nContent-Type: application/json\r\n\r\n${meta}\r\n`);
  yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${filePartName}"; filename="${fileName.replace(/[^\w.:-]/g, "_")}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  yield* contextGz;
  yield Buffer.from(`\r\n--${boundary}--\r\n`);
}
