import type { Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { StatusBadge } from "./status-badge.js";

/** A build's first cells in a table row: its id, linking to its page, its status and its app. */
export function BuildCells({ build }: { build: Build }) {
  return (
    <>
      <td>
        <a href={`/builds/${build.id}`}>{build.id}</a>
      </td>
      <td>
        <StatusBadge status={build.status} />
      </td>
      <td>{build.appId || "—"}</td>
    </>
  );
}
