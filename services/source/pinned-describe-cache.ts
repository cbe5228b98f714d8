import { createHash } from "node:crypto";
import type { CallOptions, Client } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DescribeRequestSchema, DescribeResponse, SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { FULL_SHA } from "../../libs/git/ls-remote.js";

type Describe = Pick<Client<typeof SourceService>, "describe">;

/** How many answers are kept, and for how long. */
export interface PinnedDescribeCacheOptions {
  /** Default 4096. */
  readonly entries?: number;
  /** Default 60 s: well inside the 10 minutes the mirror cache takes a found commit as present without asking git. */
  readonly ttlMs?: number;
}

/**
 * A `describe` for the source service's callers that answers again, without
 * a call, what it answered for the same request naming a full commit sha:
 * what a git folder holds at one commit never changes. Only answers whose
 * commit is that sha are kept, so a plain folder (its content may change,
 * its answer has no commit) is always described anew, and so is every
 * branch, tag or short sha. Errors are never kept. The key covers the whole
 * request — repository, folder, containerfile, auth name and per-request
 * credentials — so a caller with other (or no) credentials never gets an
 * answer fetched with someone else's; the credentials enter the key only
 * through a sha256, never in clear.
 */
export function createPinnedDescribeCache(source: Describe, options: PinnedDescribeCacheOptions = {}): Describe {
  const capacity = options.entries ?? 4096;
  const ttlMs = options.ttlMs ?? 60_000;
  const answers = new Map<string, { readonly response: DescribeResponse; readonly until: number }>();
  return {
    async describe(request: MessageInitShape<typeof DescribeRequestSchema>, callOptions?: CallOptions): Promise<DescribeResponse> {
      const pinned = request.commit !== undefined && request.commit !== "" ? request.commit : (request.source?.ref ?? "");
      if (!FULL_SHA.test(pinned)) return source.describe(request, callOptions);
      const key = keyOf(request, pinned);
      const kept = answers.get(key);
      if (kept !== undefined && kept.until > performance.now()) return kept.response;
      const response = await source.describe(request, callOptions);
      if (response.commit === pinned) {
        answers.delete(key);
        answers.set(key, { response, until: performance.now() + ttlMs });
        while (answers.size > capacity) answers.delete(answers.keys().next().value ?? "");
      }
      return response;
    },
  };
}

function keyOf(request: MessageInitShape<typeof DescribeRequestSchema>, pinned: string): string {
  const s = request.source;
  const c = s?.credentials;
  const credentials = c === undefined ? "" : createHash("sha256").update(JSON.stringify([c.username ?? "", c.password ?? "", c.privateKey ?? ""])).digest("hex");
  return JSON.stringify([s?.repository ?? "", pinned, s?.dir ?? "", s?.authName ?? "", request.containerfile ?? "", credentials]);
}
