import { createContext } from 'preact';
import { useContext, useEffect, useReducer, useState } from 'preact/hooks';
import { pagePath, routeOf } from '../base';
import type { Chat } from '../chat';

export const ChatContext = createContext<Chat | null>(null);

/** The signed-in app's controller. */
export function useChat(): Chat {
  const c = useContext(ChatContext);
  if (!c) throw new Error('useChat outside ChatContext');
  return c;
}

/** Re-renders the caller whenever chat's state changes. */
export function useChatUpdates(chat: Chat) {
  const [, force] = useReducer((x: number) => x + 1, 0);
  useEffect(() => chat.subscribe(() => force(0)), [chat]);
}

/** The current time, updated every `everyMs` (for "last seen 5 min ago"). */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

// ---- routing: "/" is the list, "/c/<conversationId>" a conversation ----
// Routes are app paths; the page's address is the route under the base path
// (base.ts): "/c/x" is /w/acme/c/x in workspace acme. Links take pagePath.

const routeListeners = new Set<() => void>();
window.addEventListener('popstate', () => routeListeners.forEach((l) => l()));

export function navigate(path: string, replace = false) {
  const address = pagePath(path);
  if (address === location.pathname) return;
  if (replace) history.replaceState(null, '', address);
  else history.pushState(null, '', address);
  routeListeners.forEach((l) => l());
}

/** The current route (the address after the base path). */
export function usePath(): string {
  const [path, setPath] = useState(routeOf(location.pathname));
  useEffect(() => {
    const l = () => setPath(routeOf(location.pathname));
    routeListeners.add(l);
    return () => {
      routeListeners.delete(l);
    };
  }, []);
  return path;
}

export function conversationPath(id: string): string {
  return `/c/${encodeURIComponent(id)}`;
}

export function conversationIdFromPath(path: string): string | null {
  const m = /^\/c\/([^/]+)\/?$/.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}

/** Follows a same-origin link without reloading, unless a modifier asks for a new tab. */
export function linkClick(e: MouseEvent, path: string) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(path);
}
