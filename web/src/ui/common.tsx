import type { Conversation, User } from '../api';
import type { Chat } from '../chat';
import { relativeAgo } from '../util';

function hue(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h % 360;
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return '?';
  const first = [...parts[0]][0] ?? '';
  const second = parts.length > 1 ? [...parts[parts.length - 1]][0] ?? '' : '';
  return (first + second).toUpperCase();
}

/** A round badge with initials and, when `online` is given, a presence dot. */
export function Avatar(props: { name: string; seed: string; online?: boolean | null; size?: 'xs' | 'sm' | 'md' }) {
  const { name, seed, online, size = 'md' } = props;
  return (
    <span class={`avatar avatar-${size}`} style={{ '--avatar-hue': hue(seed) }} aria-hidden="true">
      {initials(name)}
      {online !== undefined && <span class={`dot ${online ? 'dot-on' : 'dot-off'}`} />}
    </span>
  );
}

export function displayName(u: User | undefined, fallback = '…'): string {
  return u ? u.displayName || u.username : fallback;
}

/** Other participants than the caller. */
export function others(chat: Chat, c: Pick<Conversation, 'participants'>): string[] {
  return c.participants.filter((p) => p !== chat.state.userId);
}

export function conversationTitle(chat: Chat, c: Pick<Conversation, 'name' | 'participants'> | undefined): string {
  if (!c) return 'Conversation';
  if (c.name) return c.name;
  const o = others(chat, c);
  if (!o.length) return 'Just you';
  const names = o.map((id) => chat.userName(id));
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} +${names.length - 3}` : names.join(', ');
}

/** "online" or "last seen 5 min ago" (or "offline"). */
export function presenceText(u: User | undefined, now: number): string {
  if (!u) return '';
  if (u.isOnline) return 'online';
  return u.lastSeen ? `last seen ${relativeAgo(u.lastSeen, now)}` : 'offline';
}
