import { randomUUID } from "node:crypto";
import type { V1ObjectMeta } from "@kubernetes/client-node";
import { matchesSelector } from "./label-selector.js";
import { alreadyExists, notFound } from "./kube-status.js";

/** The resources the test server keeps, with their API group and plural name. */
export const resources = {
  secrets: { group: "", kind: "Secret", apiVersion: "v1" },
  pods: { group: "", kind: "Pod", apiVersion: "v1" },
  jobs: { group: "batch", kind: "Job", apiVersion: "batch/v1" },
} as const;
export type Resource = keyof typeof resources;

/** Any stored object: metadata plus whatever the kind holds. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  [key: string]: unknown;
}

export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: KubeObject;
  readonly resource: Resource;
  readonly rv: number;
}

/**
 * The objects of the test server: one resourceVersion counter for all (as
 * etcd's revision), uids, creation timestamps, an event log so a watch can
 * resume from a resourceVersion, and owner-reference garbage collection
 * (dependents of a deleted owner go with it unless orphaned).
 */
export class KubeStore {
  #rv = 1;
  readonly #objects = new Map<string, KubeObject>();
  readonly #log: WatchEvent[] = [];
  readonly #listeners = new Set<(e: WatchEvent) => void>();

  get resourceVersion(): string {
    return String(this.#rv);
  }

  create(resource: Resource, ns: string, body: KubeObject): KubeObject {
    const name = body.metadata?.name ?? "";
    const key = `${resource}/${ns}/${name}`;
    if (this.#objects.has(key)) throw alreadyExists(resource, resources[resource].group, name);
    const obj = structuredClone(body);
    obj.apiVersion = resources[resource].apiVersion;
    obj.kind = resources[resource].kind;
    obj.metadata = { ...obj.metadata, name, namespace: ns, uid: randomUUID(), creationTimestamp: new Date().toISOString() as unknown as Date, resourceVersion: String(++this.#rv) };
    this.#objects.set(key, obj);
    this.#emit("ADDED", resource, obj);
    return structuredClone(obj);
  }

  get(resource: Resource, ns: string, name: string): KubeObject {
    const obj = this.#objects.get(`${resource}/${ns}/${name}`);
    if (obj === undefined) throw notFound(resource, resources[resource].group, name);
    return structuredClone(obj);
  }

  /** Changes an object in place through `mutate`, bumping its resourceVersion. */
  update(resource: Resource, ns: string, name: string, mutate: (o: KubeObject) => void): KubeObject {
    const key = `${resource}/${ns}/${name}`;
    const cur = this.#objects.get(key);
    if (cur === undefined) throw notFound(resource, resources[resource].group, name);
    const next = structuredClone(cur);
    mutate(next);
    next.metadata = { ...next.metadata, name, namespace: ns, uid: cur.metadata?.uid, resourceVersion: String(++this.#rv) };
    this.#objects.set(key, next);
    this.#emit("MODIFIED", resource, next);
    return structuredClone(next);
  }

  list(resource: Resource, ns: string, selector: string | null): KubeObject[] {
    const out: KubeObject[] = [];
    for (const [key, obj] of this.#objects) {
      if (key.startsWith(`${resource}/${ns}/`) && matchesSelector(selector, obj.metadata?.labels)) out.push(structuredClone(obj));
    }
    return out;
  }

  /**
   * Deletes an object. `Background` deletes dependents right after (in the
   * next tick, as the garbage collector would), `Foreground` before, `Orphan`
   * strips their owner reference to it.
   */
  delete(resource: Resource, ns: string, name: string, policy: "Background" | "Foreground" | "Orphan"): KubeObject {
    const key = `${resource}/${ns}/${name}`;
    const obj = this.#objects.get(key);
    if (obj === undefined) throw notFound(resource, resources[resource].group, name);
    const uid = obj.metadata?.uid ?? "";
    const dependents = this.#dependents(ns, uid);
    if (policy === "Orphan") {
      for (const d of dependents) {
        this.update(d.resource, ns, d.name, (o) => {
          o.metadata = { ...o.metadata, ownerReferences: (o.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid) };
        });
      }
    } else if (policy === "Foreground") {
      for (const d of dependents) this.#deleteQuietly(d.resource, ns, d.name);
    }
    this.#objects.delete(key);
    obj.metadata = { ...obj.metadata, resourceVersion: String(++this.#rv) };
    this.#emit("DELETED", resource, obj);
    if (policy === "Background") setImmediate(() => { for (const d of dependents) this.#deleteQuietly(d.resource, ns, d.name); });
    return structuredClone(obj);
  }

  /** Events after `fromRv`, then live ones, until the returned function is called. */
  subscribe(fromRv: number | undefined, listener: (e: WatchEvent) => void): () => void {
    if (fromRv !== undefined) for (const e of this.#log) if (e.rv > fromRv) listener(e);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The number of stored objects of a resource in a namespace (for tests). */
  count(resource: Resource, ns: string): number {
    return this.list(resource, ns, null).length;
  }

  #dependents(ns: string, uid: string): { resource: Resource; name: string }[] {
    const out: { resource: Resource; name: string }[] = [];
    for (const [key, obj] of this.#objects) {
      const [resource, objNs] = key.split("/");
      if (objNs !== ns || !(obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)) continue;
      out.push({ resource: resource as Resource, name: obj.metadata?.name ?? "" });
    }
    return out;
  }

  #deleteQuietly(resource: Resource, ns: string, name: string): void {
    if (this.#objects.has(`${resource}/${ns}/${name}`)) this.delete(resource, ns, name, "Background");
  }

  #emit(type: WatchEvent["type"], resource: Resource, obj: KubeObject): void {
    const e: WatchEvent = { type, resource, object: structuredClone(obj), rv: this.#rv };
    this.#log.push(e);
    if (this.#log.length > 10_000) this.#log.shift();
    for (const l of [...this.#listeners]) l(e);
  }
}
