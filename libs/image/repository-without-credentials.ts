/** `scheme://` followed by the userinfo: everything of the authority up to its last `@`. */
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;

/**
 * A repository string without the credentials a URL may carry, as it is
 * recorded and hashed into image names: an http(s), git or file URL loses
 * its whole userinfo (a token is often written as the user name), an ssh
 * URL keeps its user (it selects the account, it is not a secret) and loses
 * the password. Anything else is returned unchanged — byte for byte, with
 * no URL normalization — so a repository written without credentials keeps
 * the image key and name it always had, and rotating a token changes
 * neither.
 */
export function repositoryWithoutCredentials(repository: string): string {
  const match = URL_USERINFO.exec(repository);
  if (!match) return repository;
  const [whole, scheme = "", userinfo = ""] = match;
  const rest = repository.slice(whole.length);
  if (scheme.toLowerCase() !== "ssh://") return `${scheme}${rest}`;
  const colon = userinfo.indexOf(":");
  return colon < 0 ? repository : `${scheme}${userinfo.slice(0, colon)}@${rest}`;
}
