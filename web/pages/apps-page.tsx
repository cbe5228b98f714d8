import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { formatTime, shortHash } from "../format.js";
import { DataTable } from "../parts/data-table.js";
import { ErrorNote } from "../parts/error-note.js";
import { useSession } from "../session.js";
import { usePoll } from "../use-poll.js";

/** How many succeeded builds the page reads to list images: the newest ones. */
const imagesRead = 500;

/** Per app (registered ones, and those builds name), its images newest first with digests and build links. */
export function AppsPage() {
  const { api } = useSession();
  const { data, error } = usePoll(
    async (signal) => {
      const apps = (await api.metadata.listApps({ pageSize: 100 }, { signal })).apps;
      const builds: Build[] = [];
      let pageToken = "";
      do {
        const page = await api.metadata.listBuilds({ status: BuildStatus.SUCCEEDED, pageSize: 100, pageToken }, { signal });
        builds.push(...page.builds);
        pageToken = page.nextPageToken;
      } while (pageToken !== "" && builds.length < imagesRead);
      const byApp = new Map<string, { name: string; images: Build[] }>();
      for (const a of apps) byApp.set(a.id, { name: a.name, images: [] });
      for (const b of builds) {
        const entry = byApp.get(b.appId) ?? { name: "", images: [] };
        if (!entry.images.some((i) => i.image === b.image)) entry.images.push(b);
        byApp.set(b.appId, entry);
      }
      return [...byApp.entries()].sort(([a], [b]) => (a === "" ? 1 : b === "" ? -1 : a.localeCompare(b)));
    },
    [],
    5000,
  );
  return (
    <section aria-labelledby="apps-title">
      <h1 id="apps-title">Apps</h1>
      <ErrorNote message={error} />
      {!data && !error && <p class="muted">Loading…</p>}
      {data && data.length === 0 && <p class="muted">No apps and no images yet.</p>}
      {data?.map(([id, app]) => (
        <article key={id} class="app" aria-labelledby={`app-${id || "none"}`}>
          <h2 id={`app-${id || "none"}`}>
            {id || "Builds without an app"}
            {app.name && app.name !== id && <span class="muted"> — {app.name}</span>}
          </h2>
          {app.images.length === 0 ? (
            <p class="muted">No image built yet.</p>
          ) : (
            <DataTable
              label={`Images of ${id || "builds without an app"}`}
              columns={["Image", "Digest", "Commit", "Built", "Build"]}
              rows={app.images.map((b) => (
                <tr key={b.id}>
                  <td class="mono wrap">{b.image}</td>
                  <td class="mono wrap">{b.digest || "—"}</td>
                  <td class="mono" title={b.commit}>
                    {shortHash(b.commit)}
                  </td>
                  <td>{formatTime(b.finishTime)}</td>
                  <td>
                    <a href={`/builds/${b.id}`}>{b.id}</a>
                  </td>
                </tr>
              ))}
            />
          )}
        </article>
      ))}
    </section>
  );
}
