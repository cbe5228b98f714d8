import type { BuildStatus } from "../../libs/gen/buildplane/v1/common_pb.js";
import { statusName } from "../format.js";

/** A build's status as a word with its colour (the word carries the meaning; the colour only helps). */
export function StatusBadge({ status }: { status: BuildStatus }) {
  const name = statusName(status);
  return <span class={`status status-${name}`}>{name}</span>;
}
