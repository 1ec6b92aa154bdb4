// The open conversation's messages: kept by seq (gapless per conversation),
// so a message that arrives twice (a page and the stream, a replay after a
// reconnect, our own send's answer) shows once. Pure functions.

import type { Message } from '../api';
import type { Thread } from './state';

/** A thread just opened, loading its first page. */
export function newThread(conversationId: string): Thread {
  return {
    conversationId,
    messages: [],
    pending: [],
    nextToken: null,
    loading: true,
    loadingOlder: false,
    error: null,
    olderError: null,
    lastSeq: 0,
    highlightSeq: null,
  };
}

/** messages and incoming together, oldest first, one per seq (incoming wins:
 *  it is the newer copy). */
export function mergeMessages(messages: readonly Message[], incoming: readonly Message[]): Message[] {
  if (!incoming.length) return messages.slice();
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The highest seq among msgs, or since if higher. */
export function highestSeq(since: number, msgs: readonly Message[]): number {
  return msgs.reduce((hi, m) => Math.max(hi, m.seq), since);
}

/** messages brought up to date with a fresh page (newest first, as
 *  listMessages returns it): within the page's seq range, what the page lacks
 *  was deleted meanwhile and goes; the page's messages are merged in. Outside
 *  the range nothing is known, so nothing changes. */
export function reconcileWithPage(messages: readonly Message[], page: readonly Message[]): Message[] {
  if (!page.length) return messages.slice();
  const present = new Set(page.map((m) => m.messageId));
  const lo = page[page.length - 1].seq;
  const hi = page[0].seq;
  const kept = messages.filter((m) => m.seq < lo || m.seq > hi || present.has(m.messageId));
  return mergeMessages(kept, page);
}

/** messages without the one with this id. */
export function withoutMessage(messages: readonly Message[], messageId: string): Message[] {
  return messages.filter((m) => m.messageId !== messageId);
}
