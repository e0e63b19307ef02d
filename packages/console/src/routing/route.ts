import { useEffect, useState } from "preact/hooks";

// The server answers these paths with the app and every other non-file path with 404
// (APP_ROUTE in the server's http/console-assets.ts): a new view needs its path there too.
export type Route = { view: "list" } | { view: "detail"; namespace: string; name: string };

export function parseRoute(pathname: string): Route {
  const match = /^\/vclusters\/([^/]+)\/([^/]+)\/?$/.exec(pathname);
  if (!match?.[1] || !match[2]) return { view: "list" };
  return { view: "detail", namespace: decodeURIComponent(match[1]), name: decodeURIComponent(match[2]) };
}

export function detailPath(namespace: string, name: string): string {
  return `/vclusters/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

const ROUTE_CHANGED = "console:route";

/** History-based navigation, so every view has a real URL that can be bookmarked and shared. */
export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(ROUTE_CHANGED));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", update);
    window.addEventListener(ROUTE_CHANGED, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(ROUTE_CHANGED, update);
    };
  }, []);
  return route;
}
