// The conversation list: how updates from several sources (pages, the
// onConversationUpdated stream, our own sends) merge into one entry, and the
// order the list shows. Pure functions; the caller stores the result.

import type { Conversation, Message } from '../api';
import { maxPreviewLength } from '../limits';

/** When a conversation was last active (ms): its last message, else its
 *  creation. 0 when neither parses. */
export function activityTime(c: Conversation): number {
  return new Date(c.lastMessageAt || c.createdAt).getTime() || 0;
}

/** The conversations, most recently active first. */
export function byActivity(cs: Iterable<Conversation>): Conversation[] {
  return [...cs].sort((a, b) => activityTime(b) - activityTime(a));
}

/** Merges an update into the known entry (old, if any). Events may cross, so
 *  the activity (last message and its time) never moves backwards, nor does
 *  lastSeq. */
export function mergeConversation(old: Conversation | undefined, c: Conversation): Conversation {
  const next = { ...old, ...c };
  if (!old) return next;
  if (activityTime(old) > activityTime(next)) {
    next.lastMessageAt = old.lastMessageAt;
    next.lastMessage = old.lastMessage;
  }
  next.lastSeq = Math.max(old.lastSeq, c.lastSeq);
  return next;
}

/** The entry with its preview moved on to m, a message we know of before the
 *  server's update says so; null when m is not newer than what c shows. */
export function bumpConversation(c: Conversation, m: Message): Conversation | null {
  if (m.seq <= c.lastSeq) return null;
  return { ...c, lastSeq: m.seq, lastMessage: preview(m.content), lastMessageAt: m.createdAt };
}

/** A message's content cut as the server cuts a conversation's preview: its
 *  first maxPreviewLength code points (Go runes). */
export function preview(content: string): string {
  const cps = [...content];
  return cps.length > maxPreviewLength ? cps.slice(0, maxPreviewLength).join('') : content;
}

/** The list's next-page token after loading a page: a "load more" page
 *  moves it on; a reload of the first page keeps a token already further on
 *  (the pages beyond stay loaded), unless the list now fits in one page. */
export function nextListToken(more: boolean, current: string | null, page: string | null): string | null {
  return more || !current || !page ? page : current;
}

/** Unread messages in all conversations but the open one (the page title's count). */
export function unreadElsewhere(cs: Iterable<Conversation>, openId: string | null): number {
  let n = 0;
  for (const c of cs) if (c.conversationId !== openId) n += c.unreadCount;
  return n;
}
