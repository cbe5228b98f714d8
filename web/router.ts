import { useEffect, useState } from "preact/hooks";

/** Where the page is: one of its four routes, from `location`. */
export type Route =
  | { readonly page: "builds"; readonly query: URLSearchParams }
  | { readonly page: "build"; readonly id: string }
  | { readonly page: "apps" }
  | { readonly page: "pool" }
  | { readonly page: "unknown"; readonly path: string };

export function parseRoute(path: string, search: string): Route {
  if (path === "/") return { page: "builds", query: new URLSearchParams(search) };
  const build = /^\/builds\/([A-Za-z0-9_-]{1,64})$/.exec(path);
  if (build?.[1]) return { page: "build", id: build[1] };
  if (path === "/apps") return { page: "apps" };
  if (path === "/pool") return { page: "pool" };
  return { page: "unknown", path };
}

/** Goes to `href` (same origin) through the history API, without a reload. */
export function navigate(href: string): void {
  history.pushState(null, "", href);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** The current route, following history changes. */
export function useRoute(): Route {
  const read = (): Route => parseRoute(location.pathname, location.search);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onPop = (): void => setRoute(read());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  return route;
}

/**
 * Lets plain `<a href="/…">` links change the route without a reload
 * (left click without modifier keys); others (new tab, other origins) are
 * left to the browser.
 */
export function interceptLinks(): void {
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest("a");
    if (!a || a.target || a.hasAttribute("download") || a.origin !== location.origin) return;
    e.preventDefault();
    if (a.pathname + a.search !== location.pathname + location.search) navigate(a.pathname + a.search);
  });
}
