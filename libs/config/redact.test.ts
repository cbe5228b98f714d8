import assert from "node:assert/strict";
import { test } from "node:test";
import { configSchema } from "./config-schema.js";
import { loadConfig } from "./load-config.js";
import { redactDbConnection, redactedTable } from "./redact.js";
import { toProtoConfig } from "./to-proto-config.js";
import { validateConfigText } from "./validate-config.js";

const secretText = `[registry]
url = "reg:5000"
username = "u"
password = "reg-s3cret"
[system]
builder_auth_token = "tok-s3cret"
[metadata]
db_connection = "postgres://app:db-s3cret@db:5432/bp"
[git_auth.corp]
password = "git-s3cret"
private_key = "key-s3cret"
hosts = ["git.example.com"]
`;

function withSecrets() {
  const r = validateConfigText(secretText, "s.toml", {});
  assert.ok(r.config, r.diagnostics.map((d) => d.message).join("; "));
  return r.config;
}

test("a postgres url keeps everything but its password", () => {
  assert.equal(redactDbConnection("postgres://app:pw@db:5432/bp"), "postgres://app:***@db:5432/bp");
  assert.equal(redactDbConnection("postgresql://app@db/bp"), "postgresql://app@db/bp");
  assert.equal(redactDbConnection("sqlite:/var/bp.db"), "sqlite:/var/bp.db");
});

test("a postgres url whose password holds @, / or : unencoded shows no part of it", () => {
  assert.equal(redactDbConnection("postgres://app:first@second/third:x@db:5432/bp"), "postgres://app:***@db:5432/bp");
  assert.equal(redactDbConnection("postgres://app@db/bp?sslmode=require&password=p@ss&x=1"), "postgres://app@db/bp?sslmode=require&password=***&x=1");
});

test("the redacted table shows *** for every secret and no clear value", () => {
  const table = redactedTable(withSecrets());
  assert.equal(table["registry"]?.["password"], "***");
  assert.equal(table["system"]?.["builder_auth_token"], "***");
  assert.equal(table["metadata"]?.["db_connection"], "postgres://app:***@db:5432/bp");
  assert.deepEqual(table["git_auth"]?.["corp"], { user_id: "", password: "***", key_file_path: "", private_key: "***", hosts: ["git.example.com"], allow_plaintext: false });
  assert.doesNotMatch(JSON.stringify(table), /s3cret/);
});

test("the redacted table has a value for every key a consumer reads", () => {
  const table = redactedTable(loadConfig({ env: { HOME: "/h" } }));
  for (const section of configSchema.filter((s) => !s.named)) {
    for (const k of section.keys.filter((k) => !k.unused && !k.aliasOf)) {
      const v = table[section.name]?.[k.key];
      assert.ok(v !== undefined, `${section.name}.${k.key}`);
      if (k.type !== "secret") assert.deepEqual(v, k.key === "data_dir" ? "/h/.buildplane" : k.default, `${section.name}.${k.key}`);
    }
  }
});

test("the proto config redacts every secret", () => {
  const proto = toProtoConfig(withSecrets());
  assert.equal(proto.registry?.password, "***");
  assert.equal(proto.system?.builderAuthToken, "***");
  assert.equal(proto.metadata?.dbConnection, "postgres://app:***@db:5432/bp");
  assert.equal(proto.gitAuth["corp"]?.password, "***");
  assert.equal(proto.gitAuth["corp"]?.privateKey, "***");
  assert.equal(proto.builder?.maxUploadBytes, 2147483648n);
  assert.doesNotMatch(JSON.stringify(proto, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)), /s3cret/);
});
