import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./run-command.js";

/** PEM files (and their paths) of a throwaway CA, a server and a client certificate. */
export interface TestCerts {
  readonly caPem: string;
  readonly caPath: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * Makes a fresh CA in `dir` and signs with it a server certificate valid for
 * `IP:127.0.0.1` and `DNS:localhost` and a client certificate (for mTLS).
 * Each call makes a new CA, so a second call gives an "unknown CA" for tests
 * of untrusted certificates. Uses the `openssl` command, P-256 keys, 2 days.
 */
export async function makeTestCerts(dir: string): Promise<TestCerts> {
  const p = (name: string) => join(dir, name);
  await runCommand("openssl", [
    "req", "-x509", ...EC_KEY, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2",
    "-subj", "/CN=buildplane test ca",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await signLeaf(dir, "server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await signLeaf(dir, "client", "/CN=buildplane test client", "extendedKeyUsage=clientAuth\n");
  return {
    caPem: await readFile(p("ca.pem"), "utf8"),
    caPath: p("ca.pem"),
    serverCertPath: p("server.pem"),
    serverKeyPath: p("server.key"),
    clientCertPem: await readFile(p("client.pem"), "utf8"),
    clientKeyPem: await readFile(p("client.key"), "utf8"),
    clientCertPath: p("client.pem"),
    clientKeyPath: p("client.key"),
  };
}

async function signLeaf(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  const p = (file: string) => join(dir, file);
  await writeFile(p(`${name}.ext`), extensions);
  await runCommand("openssl", ["req", ...EC_KEY, "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", subject]);
  await runCommand("openssl", [
    "x509", "-req", "-in", p(`${name}.csr`), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial",
    "-out", p(`${name}.pem`), "-days", "2", "-extfile", p(`${name}.ext`),
  ]);
}
