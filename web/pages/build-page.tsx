import type { Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { formatDuration, formatTime, isFinal, statusName, withoutCredentials } from "../format.js";
import { CancelButton } from "../parts/cancel-button.js";
import { ErrorNote } from "../parts/error-note.js";
import { allLines, failingStep, LogView, useFollowedLog, type FollowedLog } from "../parts/log-view.js";
import { StatusBadge } from "../parts/status-badge.js";
import { useSession } from "../session.js";
import { useCanCancel } from "../use-can-cancel.js";
import { usePoll } from "../use-poll.js";

/** One build, at its shareable address `/builds/<id>`: spec, timeline, error, log. */
export function BuildPage({ id }: { id: string }) {
  const { api } = useSession();
  const { data, error } = usePoll((signal) => api.metadata.getBuild({ id }, { signal }).then((r) => r.build), [id]);
  const log = useFollowedLog(id);
  const canCancel = useCanCancel();
  const build = data;
  const running = build !== undefined && !isFinal(build.status);
  return (
    <section aria-labelledby="build-title">
      <div class="build-head">
        <h1 id="build-title">
          Build <span class="mono">{id}</span> {build && <StatusBadge status={build.status} />}
        </h1>
        {build && running && canCancel && <CancelButton buildId={build.id} />}
      </div>
      <ErrorNote message={error} />
      {build && build.status === BuildStatus.FAILED && <FailureNote build={build} log={log} />}
      {build && build.status === BuildStatus.CANCELED && <p class="notice">Canceled: {build.errorMessage || "no reason recorded"}</p>}
      <div class="build-grid">
        <Spec build={build} />
        <Timeline build={build} />
      </div>
      <h2>Log</h2>
      <ErrorNote message={log.error} />
      <LogView log={log} />
      <p class="muted log-state">
        {log.count} lines{log.ended ? ", complete" : running || !build ? ", following" : ""}
      </p>
    </section>
  );
}

function FailureNote({ build, log }: { build: Build; log: FollowedLog }) {
  const step = failingStep(allLines(log));
  return (
    <div class="failure" role="alert">
      <h2>Failed</h2>
      <p>
        <span class="mono">{build.errorCode || "unknown"}</span>: {build.errorMessage || "no message recorded"}
      </p>
      <p>
        Failing step: <span class="mono failing-step">{step ?? "none reached (the build stopped before the engine's first step)"}</span>
      </p>
    </div>
  );
}

function Spec({ build }: { build: Build | undefined }) {
  const src = build?.source;
  const rows: Array<[string, string]> = [
    ["Repository", src?.repository ? withoutCredentials(src.repository) : "—"],
    ["Ref", src?.ref || "default branch"],
    ["Folder", src?.dir || "repository root"],
    ["Containerfile", build?.containerfile || "—"],
    ["Target", build?.target || "last stage"],
    ["Platform", build?.platform || "the builder's own"],
    ["App", build?.appId || "—"],
    ["Commit", build?.commit || "—"],
    ["Tree", build?.treeHash || "—"],
    ["Image", build?.image || "—"],
    ["Digest", build?.digest || "—"],
    ["Mode", build?.mode || "—"],
    ["Node", build?.builderNode || "—"],
    ["Requester", build?.requester || "—"],
  ];
  const args = build?.args ?? [];
  return (
    <div>
      <h2>Spec</h2>
      <dl class="spec">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd class="mono wrap">{v}</dd>
          </div>
        ))}
        <div>
          <dt>Build args</dt>
          <dd class="mono wrap">
            {args.length === 0 ? (
              "none"
            ) : (
              <ul class="args">
                {args.map((a) => (
                  <li key={a.name} data-arg={a.name}>
                    {a.name}={a.secret ? <span title="secret: never stored">***</span> : a.value}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
      </dl>
    </div>
  );
}

function Timeline({ build }: { build: Build | undefined }) {
  const status = build?.status ?? BuildStatus.UNSPECIFIED;
  // A registry-qualified image (host/…) was pushed; a bare local name stays in the engine.
  const toRegistry = (build?.image ?? "").includes("/");
  const pushed = status === BuildStatus.PUSHING || (status === BuildStatus.SUCCEEDED && toRegistry);
  const end = status === BuildStatus.SUCCEEDED ? "Ready" : isFinal(status) ? statusName(status).replace(/^./, (c) => c.toUpperCase()) : "Ready / failed";
  const steps: Array<[string, string]> = [
    ["Queued", formatTime(build?.createTime)],
    ["Started", formatTime(build?.startTime)],
    [
      "Pushed",
      build?.pushTime
        ? formatTime(build.pushTime)
        : pushed
          ? "yes"
          : status === BuildStatus.SUCCEEDED
            ? "no registry: kept in the local engine"
            : "—",
    ],
    [end, isFinal(status) ? formatTime(build?.finishTime) : "—"],
    ["Duration", build ? formatDuration(build.startTime ?? build.createTime, build.finishTime) : "—"],
  ];
  return (
    <div>
      <h2>Timeline</h2>
      <ol class="timeline">
        {steps.map(([k, v]) => (
          <li key={k} class={v === "—" || v.startsWith("no ") ? "pending" : "done"}>
            <span class="label">{k}</span> <span class="value">{v}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
