import { useState } from "preact/hooks";
import type { Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { filterStatuses, formatDuration, formatTime, parseStatus, shortHash, statusName } from "../format.js";
import { BuildCells } from "../parts/build-cells.js";
import { DataTable } from "../parts/data-table.js";
import { ErrorNote } from "../parts/error-note.js";
import { navigate } from "../router.js";
import { useSession } from "../session.js";
import { usePoll } from "../use-poll.js";

const pageSize = 25;

/** Builds newest first, filtered by app and status (kept in the URL), paged, refreshed every 2 s. */
export function BuildsPage({ query }: { query: URLSearchParams }) {
  const { api } = useSession();
  const appId = query.get("app") ?? "";
  const status = parseStatus(query.get("status"));
  // Page tokens of the pages before the current one; the current page's token last.
  const [tokens, setTokens] = useState<string[]>([""]);
  const pageToken = tokens[tokens.length - 1] ?? "";
  const { data, error } = usePoll(
    (signal) => api.metadata.listBuilds({ appId, status, pageSize, pageToken }, { signal }),
    [appId, status, pageToken],
  );
  const applyFilter = (e: Event): void => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const q = new URLSearchParams();
    const app = String(form.get("app") ?? "").trim();
    const st = String(form.get("status") ?? "");
    if (app) q.set("app", app);
    if (st) q.set("status", st);
    setTokens([""]);
    navigate(q.size > 0 ? `/?${q.toString()}` : "/");
  };
  return (
    <section aria-labelledby="builds-title">
      <h1 id="builds-title">Builds</h1>
      <form class="filters" onSubmit={applyFilter} role="search">
        <label>
          App <input name="app" defaultValue={appId} autocomplete="off" />
        </label>
        <label>
          Status{" "}
          <select name="status" defaultValue={query.get("status") ?? ""}>
            <option value="">any</option>
            {filterStatuses.map((s) => (
              <option value={statusName(s)}>{statusName(s)}</option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote message={error} />
      <BuildTable builds={data?.builds} />
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={tokens.length < 2} onClick={() => setTokens(tokens.slice(0, -1))}>
          Newer
        </button>
        <button type="button" disabled={!data?.nextPageToken} onClick={() => data && setTokens([...tokens, data.nextPageToken])}>
          Older
        </button>
      </nav>
    </section>
  );
}

/** The builds table; `undefined` while the first answer is on its way. */
export function BuildTable({ builds }: { builds: readonly Build[] | undefined }) {
  if (builds === undefined) return <p class="muted">Loading…</p>;
  if (builds.length === 0) return <p class="muted">No builds.</p>;
  return (
    <DataTable
      label="Builds table"
      columns={["Build", "Status", "App", "Image", "Commit", "Mode", "Node", "Created", "Duration"]}
      class="builds"
      rows={builds.map((b) => (
        <tr key={b.id} data-build-id={b.id}>
          <BuildCells build={b} />
          <td class="mono wrap image">{b.image || "—"}</td>
          <td class="mono" title={b.commit}>
            {shortHash(b.commit)}
          </td>
          <td>{b.mode || "—"}</td>
          <td class="wrap">{b.builderNode || "—"}</td>
          <td>{formatTime(b.createTime)}</td>
          <td>{formatDuration(b.startTime ?? b.createTime, b.finishTime)}</td>
        </tr>
      ))}
    />
  );
}
