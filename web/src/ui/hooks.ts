import { createContext } from 'preact';
import { useContext, useEffect, useReducer, useState } from 'preact/hooks';
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

const routeListeners = new Set<() => void>();
window.addEventListener('popstate', () => routeListeners.forEach((l) => l()));

export function navigate(path: string, replace = false) {
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  routeListeners.forEach((l) => l());
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const l = () => setPath(location.pathname);
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
