import { createPrivateKey, randomUUID, sign, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { runCommand } from "../helpers/run-command.js";

/** A token service of the test's own, in front of a registry in `auth: token` mode. */
export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** Where the registry finds the certificate that verifies the tokens. */
  readonly rootCertBundle: string;
  /** Every scope list requested, in order (to check caching). */
  readonly requests: string[][];
  stop(): Promise<void>;
}

/**
 * Issues ES256 JWTs as the distribution token spec describes: the signing
 * certificate travels in the `x5c` header and is trusted by the registry
 * through `rootcertbundle`. Only `username`/`password` get tokens; every
 * requested action is granted, or only those in `grantedActions` when given
 * (`["pull"]`: an account that may pull and not push). `expiresInSecs` is the
 * `expires_in` the answers announce (the JWTs themselves stay valid for five minutes).
 */
export async function startTokenServer(
  dir: string,
  username: string,
  password: string,
  expiresInSecs = 300,
  grantedActions?: readonly string[],
): Promise<TokenServer> {
  const keyPath = join(dir, "token.key");
  const certPath = join(dir, "token.pem");
  await runCommand("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=buildplane test token signer",
  ]);
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw.toString("base64");
  const service = "buildplane-test-registry";
  const issuer = "buildplane-test-issuer";
  const requests: string[][] = [];
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const scopes = url.searchParams.getAll("scope");
    requests.push(scopes);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.map((s) => {
      const [type, ...rest] = s.split(":");
      const actions = rest.pop() ?? "";
      const asked = actions.split(",");
      return { type, name: rest.join(":"), actions: grantedActions === undefined ? asked : asked.filter((a) => grantedActions.includes(a)) };
    });
    const claims = { iss: issuer, sub: username, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const input = `${b64({ typ: "JWT", alg: "ES256", x5c: [certDer] })}.${b64(claims)}`;
    const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token: `${input}.${signature}`, expires_in: expiresInSecs, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certPath,
    requests,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
