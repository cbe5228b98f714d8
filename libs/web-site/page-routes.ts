/**
 * The page's client-side routes, answered with `index.html` so a link such as
 * `/builds/<id>` can be shared and reloaded. Each has an open entry in
 * `httpRouteScopes` (`libs/rpc/rpc-scopes.ts`): the page holds no data, the
 * data comes only through the API, under its scopes.
 */
export const pageRoutes: readonly RegExp[] = [/^\/$/, /^\/builds\/[A-Za-z0-9_-]{1,64}$/, /^\/apps$/, /^\/pool$/];

/** True when `path` (query removed) is one of the page's routes. */
export function isPageRoute(path: string): boolean {
  return pageRoutes.some((r) => r.test(path));
}
