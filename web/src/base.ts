// Where the client is served: "/" for the default workspace, "/w/<id>/" for
// workspace <id> (docs/workspaces.md). Every URL the client makes is under
// this base path — POST graphql, the WebSocket, /auth/*, the service worker
// and its scope, the app's own routes — and this module is the one place
// that computes it. (Static assets are relative too: vite's base is './'
// and the server writes the base into index.html's <base href>.)

/** A workspace's base path: its id as confab.ValidWorkspaceID allows it. */
const workspaceBase = /^\/w\/([a-z][a-z0-9-]{0,30})\//;

/** The base path of a page at pathname: "/w/<id>/" under a workspace,
 *  else "/". */
export function basePathOf(pathname: string): string {
  const m = workspaceBase.exec(pathname);
  return m ? m[0] : '/';
}

/** The workspace id of a base path; "" for the default workspace. */
export function workspaceOf(base: string): string {
  const m = workspaceBase.exec(base);
  return m ? m[1] : '';
}

let cached: string | undefined;

/** This page's base path, computed once from the address it was loaded at
 *  (the app changes only the part after it). */
export function basePath(): string {
  return (cached ??= basePathOf(location.pathname));
}

/** The path of a server endpoint or file under the base: apiPath('graphql')
 *  is "/graphql" at the root and "/w/acme/graphql" in workspace acme. */
export function apiPath(path: string, base = basePath()): string {
  return base + path.replace(/^\/+/, '');
}

/** The WebSocket URL of an endpoint under the base, on the page's host. */
export function socketURL(path: string, loc: { protocol: string; host: string } = location, base = basePath()): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${apiPath(path, base)}`;
}

/** The address of an app route ("/", "/c/<id>", "/admin") under the base. */
export function pagePath(route: string, base = basePath()): string {
  return apiPath(route, base);
}

/** The app route of an address: its part after the base, from "/"; "/"
 *  for an address outside the base. */
export function routeOf(pathname: string, base = basePath()): string {
  if (pathname === base.replace(/\/$/, '') || !pathname.startsWith(base)) return '/';
  return '/' + pathname.slice(base.length);
}
