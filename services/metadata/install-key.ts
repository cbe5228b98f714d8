import { getOrCreateInstallKey, imageKeyHmacName } from "../../libs/db/repositories/install-secrets.js";
import { nowOf, type MetadataDeps } from "./metadata-deps.js";

/**
 * The install's key for hashing secret build args, created on first use and
 * kept in the metadata database: different on every install, the same for
 * every process and restart of one install.
 */
export async function imageKeyHmacKey(deps: MetadataDeps): Promise<Uint8Array> {
  return getOrCreateInstallKey(deps.database().db, imageKeyHmacName, nowOf(deps));
}
