// The open conversation's messages: kept by seq (gapless per conversation),
// so a message that arrives twice (a page and the change log, a replay after
// a reconnect, our own send's answer) shows once, and of two copies of one
// message the one with the higher changeSeq (the later state) wins. A
// message seen deleted stays gone, whatever older copy comes later. Pure
// functions.

import type { Message } from '../api';
import type { Thread } from './state';

/** A thread just opened, loading its first page. */
export function newThread(conversationId: string): Thread {
  return {
    conversationId,
    messages: [],
    deleted: new Set(),
    pending: [],
    nextToken: null,
    loading: true,
    loadingOlder: false,
    error: null,
    olderError: null,
    lastSeq: 0,
    lastChangeSeq: 0,
    highlightSeq: null,
  };
}

/** Whether m shows in the conversation's timeline: any message but a thread
 *  reply, unless the reply is also sent to the conversation. */
export function inTimeline(m: Message): boolean {
  return !m.parentMessageId || !!m.alsoInConversation;
}

/** The later of two copies of one message: the higher changeSeq; the
 *  incoming one on a tie (it was read later). */
export function newerCopy(old: Message | undefined, incoming: Message): Message {
  return old && (old.changeSeq ?? 0) > (incoming.changeSeq ?? 0) ? old : incoming;
}

/** Whether m is the tombstone of a message a moderator deleted (not its
 *  author): it stays in the timeline, saying so. */
export function moderatorDeleted(m: Message | undefined): boolean {
  return !!m?.deletedAt && !!m.deletedBy && m.deletedBy !== m.userId;
}

/** What a moderator's tombstone keeps of m: where it was, who wrote it, who deleted it. */
export function tombstone(m: Message): Message {
  return { ...m, content: '', reactions: [], attachments: [], mentions: [], replyCount: 0, replyUserIds: [] };
}

/** messages and incoming together, oldest first, one per seq, each the newer
 *  copy; tombstones (deletedAt set) and messages in deleted are left out,
 *  except a moderator's tombstones, which replace their message. */
export function mergeMessages(
  messages: readonly Message[],
  incoming: readonly Message[],
  deleted: ReadonlySet<string> = new Set(),
): Message[] {
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  for (const m of incoming) {
    if (moderatorDeleted(m)) bySeq.set(m.seq, tombstone(m));
    else if (m.deletedAt || deleted.has(m.messageId)) {
      // an older live copy never replaces a moderator's tombstone
      if (!moderatorDeleted(bySeq.get(m.seq))) bySeq.delete(m.seq);
    } else bySeq.set(m.seq, newerCopy(bySeq.get(m.seq), m));
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The highest seq among msgs, or since if higher. */
export function highestSeq(since: number, msgs: readonly Message[]): number {
  return msgs.reduce((hi, m) => Math.max(hi, m.seq), since);
}

/** messages without the one with this id. */
export function withoutMessage(messages: readonly Message[], messageId: string): Message[] {
  return messages.filter((m) => m.messageId !== messageId);
}

/** Whether m falls in the part of a paged list that is loaded: at or after
 *  its oldest shown message, or anywhere when nothing older is left to load.
 *  A change to an older message is left for the page that brings it, so the
 *  list never shows a message with a gap before it. */
export function withinLoaded(view: { messages: readonly Message[]; nextToken: string | null }, m: Message): boolean {
  if (!view.nextToken) return true;
  return view.messages.length > 0 && m.seq >= view.messages[0].seq;
}
