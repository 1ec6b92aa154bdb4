// confab's service worker: shows Web Push notifications (the payload is
// the server's webpush.Payload JSON, README "Notifications") and opens the
// conversation on click. It caches nothing.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

/** The notification of a payload: the conversation's name (or the sender)
 *  as the title; the sender and the preview, or a count, as the body. */
function notificationOf(p) {
  const title = p.conversationName || p.sender || 'New message';
  const more = p.unread > 1 ? ` (${p.unread} unread)` : '';
  const body = p.preview ? `${p.sender}: ${p.preview}${more}` : `New message from ${p.sender}${more}`;
  return {
    title,
    options: {
      body,
      tag: `conversation:${p.conversationId}`, // one notification per conversation, replaced by the next
      renotify: true,
      data: { conversationId: p.conversationId },
    },
  };
}

self.addEventListener('push', (event) => {
  let p = null;
  try {
    p = event.data ? event.data.json() : null;
  } catch {
    p = null;
  }
  if (!p || p.type !== 'message' || !p.conversationId) return;
  const n = notificationOf(p);
  event.waitUntil(self.registration.showNotification(n.title, n.options));
});

/** The base path of a page (src/base.ts: "/w/<id>/" in a workspace, else
 *  "/"). This worker's scope is its workspace's base path; the root's scope
 *  also covers the other workspaces' pages, which are not its own. */
function basePathOf(pathname) {
  const m = /^\/w\/([a-z][a-z0-9-]{0,30})\//.exec(pathname);
  return m ? m[0] : '/';
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const id = event.notification.data && event.notification.data.conversationId;
  const scope = new URL(self.registration.scope);
  const url = new URL(id ? `c/${encodeURIComponent(id)}` : '', scope).href;
  event.waitUntil(
    (async () => {
      const all = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const wins = all.filter((w) => basePathOf(new URL(w.url).pathname) === scope.pathname);
      for (const w of wins) {
        // An open tab routes in place (no reload): the app listens for this.
        w.postMessage({ type: 'open-conversation', conversationId: id });
        return w.focus();
      }
      return self.clients.openWindow(url);
    })(),
  );
});
