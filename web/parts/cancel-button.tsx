import { useState } from "preact/hooks";
import { describeError } from "../api.js";
import { useSession } from "../session.js";

/** Asks the builder to cancel a running build and says what happened. */
export function CancelButton({ buildId }: { buildId: string }) {
  const { api } = useSession();
  const [state, setState] = useState<"idle" | "sending" | string>("idle");
  const cancel = async (): Promise<void> => {
    setState("sending");
    try {
      const res = await api.builder.cancelBuild({ buildId });
      setState(res.canceled ? "cancel requested" : "not running on this builder");
    } catch (err) {
      setState(describeError(err));
    }
  };
  return (
    <span class="cancel">
      <button type="button" onClick={() => void cancel()} disabled={state === "sending"} aria-label={`Cancel build ${buildId}`}>
        Cancel
      </button>
      {state !== "idle" && state !== "sending" && <span role="status"> {state}</span>}
    </span>
  );
}
