import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { loadAll } from "js-yaml";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";

interface Rule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }
interface Manifest { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; rules?: Rule[]; roleRef?: { kind?: string; name?: string; apiGroup?: string }; subjects?: { kind?: string; name?: string; namespace?: string }[] }

const root = new URL("../../", import.meta.url);
const docs = (loadAll(readFileSync(new URL("deploy/kubernetes/base/rbac.yaml", root), "utf8")) as (Manifest | null)[]).filter((d): d is Manifest => d !== null);
const role = docs.find((d) => d.kind === "Role");

/** `group/resource verb` for every permission a set of rules grants. */
function grants(rules: readonly Rule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs ?? []) out.add(`${g === "" ? "core" : g}/${res} ${v}`);
  }
  return [...out].sort();
}

/** The exact permissions of the kaniko mode, and why each one is needed. */
const needed: Record<string, string> = {
  "core/secrets create": "docker config.json and certificate Secrets of a build",
  "core/secrets patch": "the Job set as the Secrets' ownerReference",
  "core/secrets delete": "clean-up of every exit path",
  "core/secrets list": "the sweeper finds leftovers by label",
  "batch/jobs create": "one Job per build",
  "batch/jobs get": "the Job's final status",
  "batch/jobs delete": "clean-up and cancellation",
  "batch/jobs list": "the sweeper finds leftovers by label",
  "core/pods watch": "the build pod's phase and start-up reason",
  "core/pods/log get": "log lines streamed as they come",
  "core/pods/attach create": "the context sent to Kaniko's stdin",
  "core/pods/attach get": "the context sent to Kaniko's stdin (WebSocket upgrade)",
};

/**
 * The permissions the kaniko code calls, read from its sources: client-node
 * method names (`createNamespacedSecret` → secrets create) and the
 * streaming helpers (Watch on pods, Log, Attach).
 */
function usedByCode(): string[] {
  const folder = new URL("services/builder/kaniko/", root);
  const verbs: Record<string, string> = { create: "create", read: "get", list: "list", delete: "delete", patch: "patch", replace: "update" };
  const resources: Record<string, string> = { Secret: "core/secrets", Job: "batch/jobs", Pod: "core/pods" };
  const out = new Set<string>();
  for (const name of readdirSync(folder).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const text = readFileSync(new URL(name, folder), "utf8");
    for (const m of text.matchAll(/\.(create|read|list|delete|patch|replace)Namespaced(Secret|Job|Pod)(Status)?\b/g)) {
      out.add(`${resources[m[2] ?? ""] ?? "?"}${m[3] ? "/status" : ""} ${verbs[m[1] ?? ""] ?? "?"}`);
    }
    if (/new Watch\(/.test(text) && /\/pods\b/.test(text)) out.add("core/pods watch");
    if (/new Log\(/.test(text)) out.add("core/pods/log get");
    if (/new Attach\(/.test(text)) out.add("core/pods/attach create").add("core/pods/attach get");
    if (/new Exec\(/.test(text)) out.add("core/pods/exec create");
  }
  return [...out].sort();
}

test("rbac.yaml holds a namespaced Role, not a ClusterRole, valid against the Kubernetes schema", () => {
  assert.ok(role, "a Role is defined");
  assert.equal(docs.filter((d) => d.kind === "ClusterRole" || d.kind === "ClusterRoleBinding").length, 0);
  assert.equal(role.metadata?.namespace, "buildplane");
  new Role(role as ConstructorParameters<typeof Role>[0]).validate();
});

test("the Role grants exactly the permissions the kaniko mode needs", () => {
  assert.deepEqual(grants(role?.rules ?? []), Object.keys(needed).sort());
});

test("every permission the kaniko code calls is granted", () => {
  const granted = new Set(grants(role?.rules ?? []));
  const used = usedByCode();
  assert.ok(used.length >= 10, `the scan found the kaniko calls: ${used.join(", ")}`);
  assert.deepEqual(used.filter((p) => !granted.has(p)), []);
});

test("the Role grants nothing the kaniko code does not call", () => {
  assert.deepEqual(grants(role?.rules ?? []), usedByCode());
});

test("the Role grants no wildcard, no secret reads, no pod creation and nothing by name or url", () => {
  const rules = role?.rules ?? [];
  const all = grants(rules);
  assert.ok(!JSON.stringify(rules).includes("*"), "no wildcard");
  for (const forbidden of ["core/secrets get", "core/secrets watch", "core/secrets update", "core/pods create", "core/pods delete", "core/pods get", "core/pods list", "core/pods/exec create", "batch/jobs update", "batch/jobs patch"]) {
    assert.ok(!all.includes(forbidden), forbidden);
  }
  assert.ok(rules.every((r) => r.resourceNames === undefined && r.nonResourceURLs === undefined));
});

test("the RoleBinding gives the Role to the server's service account only", () => {
  const binding = docs.find((d) => d.kind === "RoleBinding");
  assert.ok(binding);
  new RoleBinding(binding as ConstructorParameters<typeof RoleBinding>[0]).validate();
  assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role?.metadata?.name });
  assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "buildplane", namespace: "buildplane" }]);
  assert.ok(docs.some((d) => d.kind === "ServiceAccount" && d.metadata?.name === "buildplane"));
});

test("the Kaniko pods' service account mounts no API token", () => {
  const kaniko = docs.find((d) => d.kind === "ServiceAccount" && d.metadata?.name === "buildplane-kaniko") as { automountServiceAccountToken?: boolean } | undefined;
  assert.equal(kaniko?.automountServiceAccountToken, false);
});
