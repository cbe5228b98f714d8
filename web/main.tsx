import { render } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { createApi, describeError, isUnauthenticated } from "./api.js";
import { AppsPage } from "./pages/apps-page.js";
import { BuildPage } from "./pages/build-page.js";
import { BuildsPage } from "./pages/builds-page.js";
import { PoolPage } from "./pages/pool-page.js";
import { TokenGate } from "./parts/token-gate.js";
import { interceptLinks, useRoute, type Route } from "./router.js";
import { clearToken, readToken, saveToken } from "./session-token.js";
import { SessionContext, type Session } from "./session.js";
import "./style.css";

type Access = { state: "checking" } | { state: "locked"; message?: string } | { state: "open" } | { state: "down"; message: string };

/**
 * The page: first asks the server whether the visitor may read builds (with
 * the tab's token, if any); shows only the token form until it may, then the
 * page for the route. The API's scopes decide the rest.
 */
function App() {
  const token = useRef<string | undefined>(readToken());
  const api = useMemo(() => createApi(() => token.current), []);
  const [access, setAccess] = useState<Access>({ state: "checking" });

  const check = useCallback(async (): Promise<void> => {
    try {
      await api.metadata.listBuilds({ pageSize: 1 });
      setAccess({ state: "open" });
    } catch (err) {
      if (isUnauthenticated(err)) {
        const refused = token.current !== undefined;
        token.current = undefined;
        clearToken();
        setAccess(refused ? { state: "locked", message: `The server refused the token (${describeError(err)}).` } : { state: "locked" });
      } else setAccess({ state: "down", message: describeError(err) });
    }
  }, [api]);
  useEffect(() => void check(), [check]);

  const session: Session = useMemo(() => ({ api, lock: () => void check() }), [api, check]);
  const signIn = (t: string): void => {
    token.current = t;
    saveToken(t);
    setAccess({ state: "checking" });
    void check();
  };
  const signOut = (): void => {
    token.current = undefined;
    clearToken();
    setAccess({ state: "checking" });
    void check();
  };

  if (access.state === "checking") return <p class="muted center">Connecting…</p>;
  if (access.state === "locked") return <TokenGate message={access.message} onSubmit={signIn} />;
  if (access.state === "down")
    return (
      <main id="main" class="center">
        <p class="error" role="alert">
          The server did not answer: {access.message}
        </p>
        <button type="button" onClick={() => void check()}>
          Try again
        </button>
      </main>
    );
  return (
    <SessionContext.Provider value={session}>
      <Shell signedIn={token.current !== undefined} onSignOut={signOut} />
    </SessionContext.Provider>
  );
}

function Shell({ signedIn, onSignOut }: { signedIn: boolean; onSignOut: () => void }) {
  const route = useRoute();
  const here = route.page === "build" ? "builds" : route.page;
  const link = (href: string, page: string, label: string) => (
    <a href={href} aria-current={here === page ? "page" : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">buildplane</span>
        <nav aria-label="Main">
          {link("/", "builds", "Builds")}
          {link("/apps", "apps", "Apps")}
          {link("/pool", "pool", "Pool")}
        </nav>
        {signedIn && (
          <button type="button" class="sign-out" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "builds":
      return <BuildsPage key={route.query.toString()} query={route.query} />;
    case "build":
      return <BuildPage key={route.id} id={route.id} />;
    case "apps":
      return <AppsPage />;
    case "pool":
      return <PoolPage />;
    case "unknown":
      return <p class="error">No page at {route.path}.</p>;
  }
}

interceptLinks();
const root = document.getElementById("app");
if (root) render(<App />, root);
