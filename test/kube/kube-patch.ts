import { badRequest } from "./kube-status.js";

/** Applies a JSON Patch (RFC 6902: add, replace, remove) or a JSON merge patch (RFC 7386) to `target`. */
export function applyPatch(target: Record<string, unknown>, contentType: string, patch: unknown): Record<string, unknown> {
  if (contentType.startsWith("application/json-patch+json")) {
    if (!Array.isArray(patch)) throw badRequest("json patch must be an array of operations");
    for (const op of patch as { op: string; path: string; value?: unknown }[]) {
      const parts = op.path.split("/").slice(1).map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
      const last = parts.pop();
      if (last === undefined) throw badRequest(`json patch path "${op.path}" is not valid`);
      let node: Record<string, unknown> = target;
      for (const p of parts) {
        const next = node[p];
        if (typeof next !== "object" || next === null) throw badRequest(`json patch path "${op.path}" does not exist`);
        node = next as Record<string, unknown>;
      }
      if (op.op === "add" || op.op === "replace") {
        if (Array.isArray(node) && last === "-") (node as unknown[]).push(op.value); else node[last] = op.value;
      } else if (op.op === "remove") delete node[last];
      else throw badRequest(`json patch op "${op.op}" is not supported by the test server`);
    }
    return target;
  }
  if (contentType.startsWith("application/merge-patch+json") || contentType.startsWith("application/strategic-merge-patch+json")) {
    return merge(target, patch) as Record<string, unknown>;
  }
  throw badRequest(`patch content type "${contentType}" is not supported`);
}

function merge(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target as Record<string, unknown> } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]; else out[k] = merge(out[k], v);
  }
  return out;
}
