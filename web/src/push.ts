// Web Push: the service worker (public/sw.js) and the browser's push
// subscription, registered with the server (registerPushSubscription). Each
// workspace has its own worker, scoped to its base path (base.ts).

import { gql } from './api';
import { apiPath, basePath } from './base';

function register(): Promise<ServiceWorkerRegistration> {
  return navigator.serviceWorker.register(apiPath('sw.js'), { scope: basePath() });
}

export type PushState = 'unsupported' | 'off' | 'on' | 'blocked';

function supported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** Registers the service worker (at once on sign-in, so a click on a
 *  notification can open the conversation) and reports the push state. */
export async function pushState(): Promise<PushState> {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  const reg = await register();
  const sub = await reg.pushManager.getSubscription();
  return sub && Notification.permission === 'granted' ? 'on' : 'off';
}

/** Asks for permission, subscribes with the server's VAPID key and
 *  registers the subscription. */
export async function enablePush(): Promise<void> {
  if (!supported()) throw new Error('This browser cannot show push notifications.');
  if ((await Notification.requestPermission()) !== 'granted') throw new Error('Notifications are blocked for this site.');
  const d = await gql<{ pushPublicKey: string | null }>('query PushKey { pushPublicKey }');
  if (!d.pushPublicKey) throw new Error('This server does not send push notifications.');
  const reg = await register();
  await navigator.serviceWorker.ready;
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: d.pushPublicKey /* base64url, as the Push API accepts */ });
  const j = sub.toJSON();
  await gql(
    'mutation Register($e: String!, $p: String!, $a: String!) { registerPushSubscription(endpoint: $e, p256dh: $p, auth: $a) }',
    { e: j.endpoint, p: j.keys?.p256dh, a: j.keys?.auth },
  );
}

/** Unregisters and drops this browser's subscription. */
export async function disablePush(): Promise<void> {
  if (!supported()) return;
  const reg = await navigator.serviceWorker.getRegistration(basePath());
  // Not the root's worker, whose scope covers every workspace's pages.
  if (reg && new URL(reg.scope).pathname !== basePath()) return;
  const sub = await reg?.pushManager.getSubscription();
  if (!sub) return;
  await gql('mutation Unregister($e: String!) { unregisterPushSubscription(endpoint: $e) }', { e: sub.endpoint });
  await sub.unsubscribe();
}

/** Calls open with the conversation a notification click asks for. */
export function onOpenConversation(open: (id: string) => void): () => void {
  if (!supported()) return () => {};
  const l = (e: MessageEvent) => {
    if (e.data?.type === 'open-conversation' && typeof e.data.conversationId === 'string') open(e.data.conversationId);
  };
  navigator.serviceWorker.addEventListener('message', l);
  return () => navigator.serviceWorker.removeEventListener('message', l);
}
