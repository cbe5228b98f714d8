import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1ContainerState, V1Pod, V1PodCondition } from "@kubernetes/client-node";
import { podStart, type PodStart } from "./pod-state.js";

const container = "kaniko";

/** A pod whose `kaniko` container is in `state` (none: no container status yet). */
function pod(phase: string, state?: V1ContainerState, conditions: V1PodCondition[] = [], extra: { reason?: string; message?: string } = {}): V1Pod {
  return {
    status: {
      phase, conditions, ...extra,
      ...(state === undefined ? {} : { containerStatuses: [{ name: container, image: "kaniko:1", imageID: "", ready: false, restartCount: 0, state }] }),
    },
  };
}

const waitingFor = (reason: string, message?: string): V1ContainerState => ({ waiting: { reason, ...(message === undefined ? {} : { message }) } });
const unschedulable: V1PodCondition = { type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes are available" };

const cases: { name: string; pod: V1Pod; want: PodStart }[] = [
  { name: "a pod not yet scheduled is waiting", pod: pod("Pending"), want: { kind: "waiting" } },
  { name: "a container being created is waiting", pod: pod("Pending", waitingFor("ContainerCreating")), want: { kind: "waiting" } },
  { name: "an image still pulling (PodInitializing) is waiting", pod: pod("Pending", waitingFor("PodInitializing")), want: { kind: "waiting" } },
  { name: "a scheduling condition other than Unschedulable is waiting", pod: pod("Pending", undefined, [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }]), want: { kind: "waiting" } },
  { name: "Unschedulable is stuck with failedPrecondition and the scheduler's message", pod: pod("Pending", undefined, [unschedulable]),
    want: { kind: "stuck", code: "failedPrecondition", reason: "Unschedulable", message: "0/3 nodes are available" } },
  { name: "ErrImagePull is stuck with unavailable", pod: pod("Pending", waitingFor("ErrImagePull", "pull access denied")),
    want: { kind: "stuck", code: "unavailable", reason: "ErrImagePull", message: "pull access denied" } },
  { name: "ImagePullBackOff is stuck with unavailable", pod: pod("Pending", waitingFor("ImagePullBackOff", 'Back-off pulling image "k:1"')),
    want: { kind: "stuck", code: "unavailable", reason: "ImagePullBackOff", message: 'Back-off pulling image "k:1"' } },
  { name: "InvalidImageName is stuck with failedPrecondition", pod: pod("Pending", waitingFor("InvalidImageName", "bad name")),
    want: { kind: "stuck", code: "failedPrecondition", reason: "InvalidImageName", message: "bad name" } },
  { name: "CreateContainerConfigError (a missing Secret key) is stuck with failedPrecondition", pod: pod("Pending", waitingFor("CreateContainerConfigError", 'secret "s" not found')),
    want: { kind: "stuck", code: "failedPrecondition", reason: "CreateContainerConfigError", message: 'secret "s" not found' } },
  { name: "CreateContainerError is stuck with failedPrecondition", pod: pod("Pending", waitingFor("CreateContainerError")),
    want: { kind: "stuck", code: "failedPrecondition", reason: "CreateContainerError", message: "" } },
  { name: "CrashLoopBackOff is stuck with failedPrecondition", pod: pod("Running", waitingFor("CrashLoopBackOff", "back-off 10s")),
    want: { kind: "stuck", code: "failedPrecondition", reason: "CrashLoopBackOff", message: "back-off 10s" } },
  { name: "a running container is running", pod: pod("Running", { running: { startedAt: new Date(0) } }), want: { kind: "running" } },
  { name: "a container that exited 0 has ended with the termination message", pod: pod("Succeeded", { terminated: { exitCode: 0, reason: "Completed", message: "sha256:abc" } }),
    want: { kind: "ended", exitCode: 0, reason: "Completed", message: "sha256:abc" } },
  { name: "a killed container has ended with exit code 137", pod: pod("Failed", { terminated: { exitCode: 137, reason: "Error" } }),
    want: { kind: "ended", exitCode: 137, reason: "Error", message: "" } },
  { name: "a Failed pod without a container status (evicted) is stuck with its reason", pod: pod("Failed", undefined, [], { reason: "Evicted", message: "low on memory" }),
    want: { kind: "stuck", code: "failedPrecondition", reason: "Evicted", message: "low on memory" } },
  { name: "a Failed pod without a reason is stuck as Failed", pod: pod("Failed"), want: { kind: "stuck", code: "failedPrecondition", reason: "Failed", message: "" } },
];

for (const c of cases) {
  test(`pod state: ${c.name}`, () => {
    assert.deepEqual(podStart(c.pod, container), c.want);
  });
}

test("pod state: only the named container's status counts", () => {
  const p = pod("Pending", waitingFor("ErrImagePull"));
  const other = { ...p, status: { ...p.status, containerStatuses: p.status?.containerStatuses?.map((s) => ({ ...s, name: "sidecar" })) } };
  assert.deepEqual(podStart(other, container), { kind: "waiting" });
});
