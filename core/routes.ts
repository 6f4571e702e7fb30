// Pure: route normalisation, shared by validation (one service per path prefix) and the nginx
// text (location blocks), so both read "/api" and "/api/" as the same prefix.

/** nginx location prefix for a route: "/" stays, "/api" becomes "/api/". */
export function normalizeRoute(route: string): string {
  return route.endsWith("/") ? route : `${route}/`;
}
