import { configSchema, envName, type KeySpec, type SectionSpec } from "./config-schema.js";

const intro = `# Configuration reference

<!-- Generated from libs/config/config-schema.ts by \`npx tsx libs/config/gen-docs.ts\`; a test checks it is current. Do not edit by hand. -->

buildplane reads one TOML file with OpenRun's sections and key names. Every
key has a default, so an empty file (or no file at all) is a working
single-node install: builds on the local Docker or Podman engine, SQLite
metadata under \`~/.buildplane\`, the RPC port on 127.0.0.1:25222.

## Where the file comes from

1. \`--config FILE\` on the command line;
2. else the \`BUILDPLANE_CONFIG\` environment variable;
3. else \`<data_dir>/buildplane.toml\` when it exists (\`data_dir\` from
   \`BUILDPLANE_SYSTEM_DATA_DIR\`, default \`~/.buildplane\`);
4. else defaults and environment only.

Relative paths in the file are resolved against the file's folder; relative
paths in environment variables against the working directory; \`~\` is the
home folder.

## Order of precedence

defaults → file → environment. Every key of a plain section can be set
with \`BUILDPLANE_<SECTION>_<KEY>\` in upper case, e.g.
\`BUILDPLANE_HTTP_PORT=8080\` or \`BUILDPLANE_SYSTEM_DATA_DIR=/srv/bp\`.
Values are typed by the key: integers in decimal, booleans \`true\` or
\`false\`, tables as a TOML inline table. A value of the wrong type is an
error naming the variable (\`env:BUILDPLANE_HTTP_PORT: http.port: "abc" is
not valid: expected an integer\`). \`[git_auth.<name>]\` entries come from the
file only.

## Validation

The configuration is checked completely when it is loaded (at start, on
every reload, by \`buildplane config validate FILE\` and by the
\`ValidateConfig\` RPC), and every problem is reported at once as
\`file:line:column: key: message\`. Checked: malformed TOML (line and
column); unknown sections and keys (with a "did you mean" suggestion);
value types; integer bounds (no zero or negative limits, ports 0–65535);
\`builder.mode\`; delegate URLs; a registry URL without a scheme;
\`registry.type\`; \`system.container_command\`; \`metadata.db_connection\`;
\`[services]\` URLs; \`password\` and \`password_file\` not both set;
certificate and key set together; every file named (\`ca_file\`,
\`client_cert_file\`, \`client_key_file\`, \`password_file\`, the \`[https]\`
files, \`kubeconfig\`, \`key_file_path\`) readable; \`default_git_auth\`
naming a \`[git_auth.<name>]\` entry; the \`[kubernetes]\` tables as the
Kubernetes API would (resource names and quantities such as \`500m\` or
\`2Gi\`, each request no larger than its limit, node-selector label keys
and values, tolerations: \`operator\` \`Equal\` or \`Exists\`, no value with
\`Exists\`, an empty key only with \`Exists\`, \`effect\` \`NoSchedule\`,
\`PreferNoSchedule\`, \`NoExecute\` or empty, \`toleration_seconds\` only
with \`NoExecute\`). A problem inside a table names its place, e.g.
\`kubernetes.tolerations[1].operator\`.

### Kubernetes

\`[kubernetes] kubeconfig\` defaults to the first path of the
\`KUBECONFIG\` environment variable when it is set, else to
\`~/.kube/config\` outside Kubernetes when that file exists, else to
empty, which means the in-cluster service account. A kubeconfig taken from
\`KUBECONFIG\` is checked for readability only when builds run in kaniko
mode. Tolerations are written as an array of tables:

\`\`\`toml
[kubernetes]
namespace = "builds"
service_account = "buildplane-kaniko"
resources_requests = { cpu = "1", memory = "2Gi" }
resources_limits = { memory = "4Gi" }
node_selector = { "kubernetes.io/arch" = "amd64" }

[[kubernetes.tolerations]]
key = "dedicated"
operator = "Equal"
value = "builds"
effect = "NoSchedule"
\`\`\`

From the environment, tables and arrays are TOML inline values:
\`BUILDPLANE_KUBERNETES_TOLERATIONS='[{ key = "dedicated", operator = "Exists" }]'\`.

### Modes that need a registry and a token

\`kaniko\` and \`delegate:<url>\` push to a shared registry, so they need
\`registry.url\`; \`delegate:<url>\` also needs \`system.builder_auth_token\`,
the bearer token its builder nodes check. These rules apply **at load**, to
the merged file and environment: a configuration that cannot build is
refused before the server starts, not at the first build.

The seed's main-install snippet

\`\`\`toml
[builder]
mode = "delegate:http://mybuilder.example.com:25222"
\`\`\`

is added to an install that already has its registry (the seed: "a shared
container registry is required for … delegated builds"). It loads unchanged
when the registry and token come from the rest of the file or from the
environment, for example:

\`\`\`sh
BUILDPLANE_REGISTRY_URL=registry.example.com:5000 \\
BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN=… buildplane serve --config main.toml
\`\`\`

Without them, loading fails with both fixes named:

\`\`\`
main.toml:2:1: builder.mode: "delegate:http://mybuilder.example.com:25222" needs a registry: set [registry] url (or BUILDPLANE_REGISTRY_URL)
main.toml:2:1: builder.mode: "delegate:http://mybuilder.example.com:25222" needs a token: set [system] builder_auth_token (or BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN)
\`\`\`

\`auto\` resolves when the configuration is loaded: to \`kaniko\` when
\`KUBERNETES_SERVICE_HOST\` is set (every Kubernetes container has it), else
to \`command\`. Inside Kubernetes, \`auto\` therefore needs a registry too:

\`\`\`
buildplane.toml: builder.mode: "auto" resolved to kaniko because KUBERNETES_SERVICE_HOST is set, and kaniko needs a registry: set [registry] url (or BUILDPLANE_REGISTRY_URL), or set mode = "command"
\`\`\`

The seed's builder-node config (\`[http] host = "0.0.0.0"\`,
\`redirect_to_https = false\`, \`[system] container_command = "docker"\`,
\`[security] admin_over_tcp = true\`) loads unchanged. A builder node needs
no registry of its own (the main install sends it). It needs the shared
token to accept delegated builds (set \`BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN\`
or \`[system] builder_auth_token\`); with \`admin_over_tcp = true\` and no
token it refuses to start, since anyone on the network could build and push.

### Secrets

\`registry.password\`, \`system.builder_auth_token\`,
\`git_auth.<name>.password\`, \`git_auth.<name>.private_key\` and
\`metadata.db_connection\` are secrets: \`buildplane config show\`, the
\`GetConfig\` and \`WatchConfig\` RPCs and every message print \`***\` in their
place (a postgres URL keeps everything but its password). Only
\`GetRegistryCredentials\` returns the registry password in clear.

### Reloading

\`buildplane serve\` watches the file. A valid change takes effect and is
sent to \`WatchConfig\` streams; an invalid change is reported (the stream's
\`rejected\` diagnostics) and the previous configuration stays in force.
`;

function renderDefault(spec: KeySpec): string {
  if (spec.defaultDoc) return `\`${spec.defaultDoc}\``;
  const d = spec.default;
  if (spec.type === "secret") return "unset";
  if (typeof d === "string") return `\`${JSON.stringify(d)}\``;
  if (Array.isArray(d)) return "`[]`";
  if (typeof d === "object") {
    if (Object.keys(d).length === 0) return "`{}`";
    return `\`{ ${Object.entries(d).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")} }\``;
  }
  return `\`${String(d)}\``;
}

function renderType(spec: KeySpec): string {
  const range =
    spec.type === "int" && spec.min !== undefined
      ? spec.max !== undefined && spec.max <= 65535 ? ` (${spec.min}–${spec.max})` : ` (≥ ${spec.min})`
      : "";
  const names: Record<KeySpec["type"], string> = { string: "string", bool: "bool", int: "integer", secret: "secret string", list: "array of strings", map: "table", tables: "array of tables" };
  return names[spec.type] + range + (spec.readableFile ? ", readable file" : "");
}

function renderSection(section: SectionSpec): string {
  const title = section.named ? `[${section.name}.<name>]` : `[${section.name}]`;
  const head = section.named ? "| key | type | default | description |\n|---|---|---|---|" : "| key | type | default | environment | description |\n|---|---|---|---|---|";
  const rows = section.keys.map((k) => {
    const env = section.named ? "" : ` \`${envName(section.name, k.key)}\` |`;
    return `| \`${k.key}\` | ${renderType(k)} | ${renderDefault(k)} |${env} ${k.doc} |`;
  });
  return `### \`${title}\`\n\n${section.doc}\n\n${head}\n${rows.join("\n")}\n`;
}

/** docs/configuration.md, generated from the schema table so it never drifts. */
export function renderConfigDocs(): string {
  return `${intro}\n## Keys\n\n${configSchema.map(renderSection).join("\n")}`;
}
