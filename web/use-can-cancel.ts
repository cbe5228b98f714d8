import { useEffect, useState } from "preact/hooks";
import { useSession } from "./session.js";

/**
 * Whether the visitor's credential may cancel builds, as the server's scope
 * table decides: `CancelBuild` for no build answers `canceled: false` to a
 * caller that may call it, and permission_denied to one that may not.
 */
export function useCanCancel(): boolean {
  const { api } = useSession();
  const [may, setMay] = useState(false);
  useEffect(() => {
    const ctrl = new AbortController();
    api.builder.cancelBuild({ buildId: "" }, { signal: ctrl.signal }).then(
      () => setMay(true),
      () => setMay(false),
    );
    return () => ctrl.abort();
  }, [api]);
  return may;
}
