import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { create } from "@bufbuild/protobuf";
import { BuildSpecSchema, type BuildArg, type BuildSpec } from "../../libs/gen/buildplane/v1/common_pb.js";
import { CliExit, exitCodes } from "./exit.js";

/** The options of `buildplane build` that make up the spec. */
export interface BuildSpecOptions {
  readonly ref?: string | undefined;
  readonly dir?: string | undefined;
  readonly file?: string | undefined;
  readonly arg: readonly string[];
  readonly secretArg: readonly string[];
  readonly target?: string | undefined;
  readonly platform?: string | undefined;
  readonly app?: string | undefined;
}

const remote = /^(?:[a-z][a-z0-9+.-]*:\/\/|[\w.-]+@[\w.-]+:)/i;
const argName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Turns the command line into a `BuildSpec`. A local path becomes absolute
 * so a server sees the same folder; `--secret-arg NAME` takes the value from
 * the environment variable NAME, so a secret never sits in argv.
 */
export function buildSpecFromCli(source: string, opts: BuildSpecOptions, env: NodeJS.ProcessEnv, cwd: string): BuildSpec {
  const repository = remote.test(source) ? source : resolve(cwd, source);
  if (!remote.test(source) && !existsSync(repository)) {
    throw new CliExit(exitCodes.usage, `source "${source}" is not a git URL and no folder exists at ${repository}`);
  }
  const args: BuildArg[] = [];
  const seen = new Set<string>();
  const add = (name: string, value: string, secret: boolean, given: string): void => {
    if (!argName.test(name)) throw new CliExit(exitCodes.usage, `build arg "${given}" is not valid: expected NAME=VALUE with NAME of letters, digits and _`);
    if (seen.has(name)) throw new CliExit(exitCodes.usage, `build arg "${name}" is given twice`);
    seen.add(name);
    args.push({ $typeName: "buildplane.v1.BuildArg", name, value, secret });
  };
  for (const a of opts.arg) {
    const eq = a.indexOf("=");
    if (eq <= 0) throw new CliExit(exitCodes.usage, `build arg "${a}" is not valid: expected NAME=VALUE`);
    add(a.slice(0, eq), a.slice(eq + 1), false, a);
  }
  for (const name of opts.secretArg) {
    const value = env[name];
    if (value === undefined) throw new CliExit(exitCodes.usage, `secret build arg ${name} needs the environment variable ${name} to be set`);
    add(name, value, true, name);
  }
  return create(BuildSpecSchema, {
    source: { repository, ref: opts.ref ?? "", dir: opts.dir ?? "" },
    containerfile: opts.file ?? "",
    args,
    target: opts.target ?? "",
    platform: opts.platform ?? "",
    appId: opts.app ?? "",
    requester: `cli:${env["USER"] ?? "unknown"}`,
  });
}
