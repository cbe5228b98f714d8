import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** PEM files made by `openssl` for one test: a CA, a server cert for 127.0.0.1, and a client cert. */
export interface TestCerts {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

/** Creates a throw-away CA and certificates under `dir` (P-256 keys, valid one day). */
export function makeTestCerts(dir: string): TestCerts {
  const p = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  };
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ecKey, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "1", "-subj", "/CN=buildplane test ca");
  const issue = (name: string, cn: string, ext: string): void => {
    openssl("req", ...ecKey, "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", `/CN=${cn}`);
    writeFileSync(p(`${name}.ext`), ext);
    openssl("x509", "-req", "-in", p(`${name}.csr`), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p(`${name}.pem`), "-days", "1", "-extfile", p(`${name}.ext`));
  };
  issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  issue("client", "buildplane test client", "extendedKeyUsage=clientAuth\n");
  return {
    caFile: p("ca.pem"),
    serverCertFile: p("server.pem"),
    serverKeyFile: p("server.key"),
    clientCertFile: p("client.pem"),
    clientKeyFile: p("client.key"),
    caPem: readFileSync(p("ca.pem"), "utf8"),
    clientCertPem: readFileSync(p("client.pem"), "utf8"),
    clientKeyPem: readFileSync(p("client.key"), "utf8"),
  };
}
