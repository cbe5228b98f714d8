import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api } from "./api.js";

/** What every page gets: the API clients and a way to fall back to the token form. */
export interface Session {
  readonly api: Api;
  /** A call answered unauthenticated: the token is gone or was never given. */
  lock(): void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside the session provider");
  return s;
}
