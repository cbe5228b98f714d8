import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { GetStatusResponse } from "../../libs/gen/buildplane/v1/builder_pb.js";
import type { Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { formatDuration, formatTime } from "../format.js";
import { CancelButton } from "../parts/cancel-button.js";
import { BuildCells } from "../parts/build-cells.js";
import { DataTable } from "../parts/data-table.js";
import { ErrorNote } from "../parts/error-note.js";
import { useSession } from "../session.js";
import { useCanCancel } from "../use-can-cancel.js";
import { usePoll } from "../use-poll.js";

/** The builder pool (its nodes' health, load and last error), the queue and the running builds, refreshed every 2 s. */
export function PoolPage() {
  const { api } = useSession();
  const canCancel = useCanCancel();
  const status = usePoll((signal) => api.builder.getStatus({}, { signal }), []);
  const builds = usePoll(async (signal) => {
    const list = (s: BuildStatus): Promise<Build[]> => api.metadata.listBuilds({ status: s, pageSize: 100 }, { signal }).then((r) => r.builds);
    const [queued, running, pushing] = await Promise.all([list(BuildStatus.QUEUED), list(BuildStatus.RUNNING), list(BuildStatus.PUSHING)]);
    // Listed newest first: the queue's head is the oldest.
    return { queue: [...queued].reverse(), running: [...running, ...pushing] };
  }, []);
  return (
    <section aria-labelledby="pool-title">
      <h1 id="pool-title">Pool and queue</h1>
      <h2>Builders</h2>
      <ErrorNote message={status.error} />
      {status.data ? <Builders status={status.data} /> : !status.error && <p class="muted">Loading…</p>}
      <h2>Queue</h2>
      <ErrorNote message={builds.error} />
      {builds.data && (builds.data.queue.length === 0 ? <p class="muted">No build is waiting.</p> : <QueueTable queue={builds.data.queue} />)}
      <h2>Running</h2>
      {builds.data &&
        (builds.data.running.length === 0 ? <p class="muted">No build is running.</p> : <RunningTable running={builds.data.running} canCancel={canCancel} />)}
    </section>
  );
}

function Health({ healthy }: { healthy: boolean }) {
  return <span class={`status ${healthy ? "status-succeeded" : "status-failed"}`}>{healthy ? "healthy" : "unhealthy"}</span>;
}

function Builders({ status }: { status: GetStatusResponse }) {
  return (
    <>
      <p>
        Mode <strong>{status.mode}</strong>, {status.running} of {status.capacity} build slots in use, {status.queued} waiting
        {status.engine ? `, engine ${status.engine} ${status.version}` : ""}. This server: <Health healthy={status.healthy} />
      </p>
      {status.nodes.length > 0 && (
        <DataTable
          label="Builder nodes"
          columns={["Node", "Health", "Load", "Queued", "Sent from here", "Last error"]}
          class="nodes"
          rows={status.nodes.map((n) => (
            <tr key={n.url} data-node={n.url}>
              <td class="mono wrap">
                {n.url}
                {n.plaintext && <span class="warn"> plaintext</span>}
              </td>
              <td>
                <Health healthy={n.healthy} />
              </td>
              <td>
                {n.running} / {n.capacity}
              </td>
              <td>{n.queued}</td>
              <td>{n.inFlight}</td>
              <td class="wrap">{n.reason || "—"}</td>
            </tr>
          ))}
        />
      )}
    </>
  );
}

function QueueTable({ queue }: { queue: readonly Build[] }) {
  return (
    <DataTable
      label="Queue"
      columns={["Position", "Build", "App", "Queued at"]}
      rows={queue.map((b, i) => (
        <tr key={b.id}>
          <td>{i + 1}</td>
          <td>
            <a href={`/builds/${b.id}`}>{b.id}</a>
          </td>
          <td>{b.appId || "—"}</td>
          <td>{formatTime(b.createTime)}</td>
        </tr>
      ))}
    />
  );
}

function RunningTable({ running, canCancel }: { running: readonly Build[]; canCancel: boolean }) {
  return (
    <DataTable
      label="Running builds"
      columns={["Build", "Status", "App", "Node", "Running for", ...(canCancel ? ["Action"] : [])]}
      rows={running.map((b) => (
        <tr key={b.id}>
          <BuildCells build={b} />
          <td class="wrap">{b.builderNode || "—"}</td>
          <td>{formatDuration(b.startTime ?? b.createTime, undefined)}</td>
          {canCancel && (
            <td>
              <CancelButton buildId={b.id} />
            </td>
          )}
        </tr>
      ))}
    />
  );
}
