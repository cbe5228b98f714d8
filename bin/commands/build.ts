import { Option, type Command } from "commander";
import type { ProgressMode } from "./build-progress.js";
import type { ServerCredentialOptions } from "./server-credential.js";
import { serverOrigin, withServerOptions } from "./server-option.js";

export interface BuildOptions extends ServerCredentialOptions {
  ref?: string;
  dir?: string;
  file?: string;
  arg: string[];
  secretArg: string[];
  target?: string;
  platform?: string;
  app?: string;
  config?: string;
  server?: string;
  json?: boolean;
  progress: ProgressMode;
  quiet?: boolean;
  metadataFile?: string;
  force?: boolean;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Registers `buildplane build <source>`: the main job. It resolves the
 * image for the source and builds it only when missing — in this process on
 * the embedded default (SQLite under the data dir, the local engine), or
 * through a server with `--server URL`, which gets a git URL as is and a
 * local folder's context uploaded (it never reads a path of the client's).
 * Exit 0 when ready, 1 when failed, 2 on a usage error; ^C (SIGINT) and
 * SIGTERM cancel the build and exit 130 and 143, as shells expect.
 */
export function registerBuildCommand(program: Command): void {
  const command = program
    .command("build")
    .description("Make sure the image for a source exists, building it only when missing; print its reference.")
    .argument("<source>", "git URL (https://, ssh://, git://, git@host:path, file://) or local folder")
    .option("--ref <ref>", "branch, tag or commit (default: the remote HEAD)")
    .option("--dir <folder>", "folder inside the repository holding the build context")
    .option("--file <containerfile>", "containerfile inside the folder (default: Containerfile, then Dockerfile)")
    .option("--arg <NAME=VALUE>", "build arg (repeatable)", collect, [])
    .option("--secret-arg <NAME>", "secret build arg whose value is read from the environment variable NAME (repeatable)", collect, [])
    .option("--target <stage>", "multi-stage target")
    .option("--platform <platform>", "target platform, for example linux/amd64")
    .option("--app <id>", "app id, used in the image name")
    .option("--force", "build even when the image exists")
    .option("--config <file>", "TOML configuration file")
    .option("--json", "print one JSON object per event on stdout")
    .addOption(new Option("--progress <mode>", "how to show progress on stderr: auto (tty on a terminal, else plain), tty, plain or quiet").choices(["auto", "tty", "plain", "quiet"]).default("auto").conflicts("json"))
    .addOption(new Option("-q, --quiet", "print only the image reference (and a failure), as --progress quiet").conflicts(["json", "progress"]))
    .option("--metadata-file <file>", "write the ready event (image, digest, cached, build id) to this file as JSON")
    .option("--dry-run", "kaniko mode: print the Kubernetes objects a build would create (JSON lines, secret data redacted) and create nothing");
  withServerOptions(command, "use a buildplane server instead of running in this process")
    .addHelpText("after", `
Examples:
  $ buildplane build https://github.com/example/app.git --ref v1.2.0 --dir web
  $ image=$(buildplane build . -q)
  $ buildplane build git@github.com:example/app.git --arg VERSION=1.2 --secret-arg NPM_TOKEN
  $ buildplane build . --server https://buildplane.example.com:25222 --metadata-file meta.json
  $ BUILDPLANE_SERVER=http://127.0.0.1:25222 BUILDPLANE_TOKEN=… buildplane build . --json
`)
    .action(async (source: string, opts: BuildOptions, cmd: Command) => {
      // What a build needs loads only when one runs, so `--help` and `--version` stay quick.
      // The failed line is already printed; the entry point keeps this code.
      process.exitCode = await (await import("./build-run.js")).runBuildCommand(source, opts, serverOrigin(cmd));
    });
}
