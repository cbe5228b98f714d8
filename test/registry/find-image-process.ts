// Run as its own process: reads client options and a reference as JSON on
// stdin, prints the manifest digest (or "missing"). Used to prove a pushed
// image is found by a process that shares nothing with the pusher.
import { parseReference } from "../../libs/image/reference.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { Secret } from "../../libs/secret/secret.js";

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
  url: string; insecure: boolean; username: string; password: string; caPem: string; clientCertPem: string; clientKeyPem: string; reference: string;
};
const client = createRegistryClient({
  url: input.url, insecure: input.insecure, type: "", username: input.username,
  password: input.password === "" ? undefined : new Secret(input.password), caPem: input.caPem,
  clientCertPem: input.clientCertPem, clientKeyPem: input.clientKeyPem === "" ? undefined : new Secret(input.clientKeyPem), awsRegion: "",
});
const ref = parseReference(input.reference);
const head = await client.headManifest(ref.path, ref.tag ?? "latest");
client.close();
process.stdout.write(head?.digest ?? "missing");
