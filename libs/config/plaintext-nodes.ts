import { isIPv4 } from "node:net";

/**
 * Whether builder-node `url` (`http://…`, `https://…`, `openrun+http(s)://…`)
 * is reached in clear across the network: plain HTTP to a host that is not
 * this machine. The token, registry password and build args travel in
 * that request, so such a node is named in a warning at start, shown as
 * plaintext in `GetStatus`, and refused by `[builder] require_tls_to_nodes`.
 * Loopback (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`) never leaves the
 * machine and does not count.
 */
export function isPlaintextNodeUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/^openrun\+/i, ""));
  } catch {
    return false;
  }
  return parsed.protocol === "http:" && !isLoopbackHost(parsed.hostname);
}

/** `localhost`, a name under `.localhost`, an IPv4 address in 127.0.0.0/8, or `::1`. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost") || h === "::1") return true;
  return isIPv4(h) && h.startsWith("127.");
}
