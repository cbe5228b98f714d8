import { join } from "node:path";
import type { GitAuthConfig, ResolvedConfig } from "../../libs/config/config-types.js";

/** What the source service needs from the configuration, resolved once. */
export interface SourceOptions {
  /** `<data_dir>/git`: mirrors and the SSH known_hosts file. */
  readonly gitRoot: string;
  /** `[system] git_checkout_cache_entries`; 0 → DEFAULT_MIRROR_ENTRIES (a mirror is always needed). */
  readonly cacheEntries: number;
  /** `[system] git_remote_check_interval_secs`: reuse of ls-remote results. */
  readonly remoteCheckIntervalSecs: number;
  /** `[system] git_operation_timeout_secs`; <= 0 means no limit. */
  readonly operationTimeoutSecs: number;
  /** `[git_auth.<name>]` entries. */
  readonly gitAuth: Readonly<Record<string, GitAuthConfig>>;
  /** `[security] default_git_auth`. */
  readonly defaultGitAuth: string;
}

/** Picks the source service's options out of the whole configuration. */
export function sourceOptionsFromConfig(config: ResolvedConfig): SourceOptions {
  return Object.freeze({
    gitRoot: join(config.system.dataDir, "git"),
    cacheEntries: config.system.gitCheckoutCacheEntries,
    remoteCheckIntervalSecs: config.system.gitRemoteCheckIntervalSecs,
    operationTimeoutSecs: config.system.gitOperationTimeoutSecs,
    gitAuth: config.gitAuth,
    defaultGitAuth: config.security.defaultGitAuth,
  });
}
