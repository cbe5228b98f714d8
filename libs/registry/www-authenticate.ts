/** An auth challenge from a `WWW-Authenticate` header. */
export type AuthChallenge =
  | { readonly scheme: "basic"; readonly realm: string }
  | {
      readonly scheme: "bearer";
      readonly realm: string;
      readonly service: string | undefined;
      readonly scope: string | undefined;
      /** RFC 6750 `error`, e.g. `insufficient_scope` when a token lacks the action asked for. */
      readonly error?: string | undefined;
    };

/**
 * Parses the first Basic or Bearer challenge of a `WWW-Authenticate` value
 * (RFC 7235 auth-params, quoted strings with backslash escapes). Returns
 * undefined for a header with no challenge we can answer.
 */
export function parseWwwAuthenticate(header: string | undefined): AuthChallenge | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const scheme = (match[1] ?? "").toLowerCase();
  const params = parseParams(match[2] ?? "");
  if (scheme === "basic") return { scheme, realm: params.get("realm") ?? "" };
  if (scheme === "bearer") {
    const realm = params.get("realm");
    if (realm === undefined || realm === "") return undefined;
    const error = params.get("error");
    const challenge = { scheme, realm, service: params.get("service"), scope: params.get("scope") } as const;
    return error === undefined ? challenge : { ...challenge, error };
  }
  return undefined;
}

function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && m[0] !== "") {
    const key = (m[1] ?? "").toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
    if (!params.has(key)) params.set(key, value);
  }
  return params;
}
