import { configSchema, envName } from "./config-schema.js";
import type { ConfigDiagnostic } from "./config-types.js";
import { checkEnvValue, keyInside } from "./config-values.js";
import { normalizePath, setEntry, type Entries } from "./config-entries.js";

/**
 * Applies `BUILDPLANE_<SECTION>_<KEY>` variables over the file's values,
 * typed by the schema. A bad value is a diagnostic whose file is
 * `env:<VARIABLE>`, so the message names the variable to fix. Relative
 * paths resolve against the working directory.
 */
export function applyEnvOverrides(env: NodeJS.ProcessEnv, cwd: string, entries: Entries): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  for (const section of configSchema) {
    if (section.named) continue;
    for (const spec of section.keys) {
      const name = envName(section.name, spec.key);
      const text = env[name];
      if (text === undefined) continue;
      const file = `env:${name}`;
      const key = `${section.name}.${spec.key}`;
      const checked = checkEnvValue(spec, text);
      if ("error" in checked) {
        out.push({ file, line: 0, column: 0, key: keyInside(key, checked.at), message: checked.error });
        continue;
      }
      const value = normalizePath(spec, checked.value, cwd, env);
      setEntry(entries, section.name, spec.key, { value, origin: { file, line: 0, column: 0, baseDir: cwd } });
    }
  }
  return out;
}
