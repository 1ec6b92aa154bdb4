// The outbox: own messages sent but not yet answered, per conversation.
//
// An entry is paired with its message only by its own sendMessage answer
// (matched by clientToken, which is the entry's key): the answer removes the
// entry, a failure marks that very entry failed, and it stays shown (with
// Retry and Discard) until the person acts. Nothing else removes an entry.
//
// The stream may bring an own message before its send has answered. Which
// entry it belongs to is not known then (Message carries no clientToken, and
// two entries may hold the same text), so it is only remembered as "early":
// it hides one entry still sending with the same text, so the message does
// not show twice meanwhile. That is display only; it never decides which
// entry is removed or marked failed. Early messages are bounded: never more
// of one text than entries of that text still sending, and dropped once the
// answers have come.
//
// The functions are pure: they return a new Outbox and never change theirs.
// Outboxes holds one Outbox per conversation and does the sending.

import type { Message, SendOptions } from '../api';
import { randomToken } from '../util';

export interface Pending {
  clientToken: string;
  content: string;
  createdAt: string;
  status: 'sending' | 'failed';
  error?: string;
  /** Set for a reply in the thread of this root. */
  parentMessageId?: string;
  alsoInConversation?: boolean;
  mentions?: string[];
}

export interface Outbox {
  /** Entries in the order they were sent, until answered or discarded. */
  readonly pending: readonly Pending[];
  /** Own messages from the stream not yet claimed by an answer (see above). */
  readonly early: readonly Message[];
}

export const emptyOutbox: Outbox = { pending: [], early: [] };

/** Adds a new entry, sending. */
export function enqueue(o: Outbox, p: Pending): Outbox {
  return { ...o, pending: [...o.pending, p] };
}

/** The entry with this clientToken answered with message m: it leaves the
 *  outbox, and so does m if the stream brought it first. */
export function settle(o: Outbox, clientToken: string, m: Message): Outbox {
  return trim({
    pending: o.pending.filter((p) => p.clientToken !== clientToken),
    early: o.early.filter((e) => e.messageId !== m.messageId),
  });
}

/** The entry's send failed: it stays, marked failed with the reason. */
export function fail(o: Outbox, clientToken: string, error: string): Outbox {
  return trim({
    ...o,
    pending: o.pending.map((p) => (p.clientToken === clientToken ? { ...p, status: 'failed', error } : p)),
  });
}

/** A failed entry is being sent again (with the same clientToken). */
export function retry(o: Outbox, clientToken: string): Outbox {
  return {
    ...o,
    pending: o.pending.map((p) =>
      p.clientToken === clientToken && p.status === 'failed' ? { ...p, status: 'sending', error: undefined } : p,
    ),
  };
}

/** Forgets a failed entry. An entry still sending cannot be discarded: its
 *  answer may yet come. */
export function discard(o: Outbox, clientToken: string): Outbox {
  return { ...o, pending: o.pending.filter((p) => !(p.clientToken === clientToken && p.status === 'failed')) };
}

/** An own message m arrived on the stream (and was not shown before). It is
 *  kept as early if an entry with its text is still sending and not already
 *  hidden by another early message. */
export function noteEarly(o: Outbox, m: Message): Outbox {
  if (o.early.some((e) => e.messageId === m.messageId)) return o;
  if (countEarly(o, m.content) >= countSending(o, m.content)) return o;
  return { ...o, early: [...o.early, m] };
}

/** The entries to show: all, less one still sending per early message of the
 *  same text (the oldest such entries). */
export function visible(o: Outbox): Pending[] {
  const hide = new Map<string, number>();
  for (const e of o.early) hide.set(e.content, (hide.get(e.content) ?? 0) + 1);
  return o.pending.filter((p) => {
    const n = p.status === 'sending' ? (hide.get(p.content) ?? 0) : 0;
    if (n > 0) hide.set(p.content, n - 1);
    return n === 0;
  });
}

/** Whether the outbox holds nothing. */
export function isEmpty(o: Outbox): boolean {
  return o.pending.length === 0 && o.early.length === 0;
}

function countSending(o: Outbox, content: string): number {
  return o.pending.filter((p) => p.status === 'sending' && p.content === content).length;
}

function countEarly(o: Outbox, content: string): number {
  return o.early.filter((e) => e.content === content).length;
}

/** Restores the bound: per text, no more early messages than entries still
 *  sending (the newest early ones go). */
function trim(o: Outbox): Outbox {
  const room = new Map<string, number>();
  for (const p of o.pending) if (p.status === 'sending') room.set(p.content, (room.get(p.content) ?? 0) + 1);
  const early = o.early.filter((e) => {
    const n = room.get(e.content) ?? 0;
    if (n > 0) room.set(e.content, n - 1);
    return n > 0;
  });
  return early.length === o.early.length ? o : { ...o, early };
}

/** What Outboxes needs from its owner. */
export interface OutboxHooks {
  /** Sends p (again, on retry: p.clientToken makes that safe); resolves with
   *  the stored message. */
  send(conversationId: string, p: Pending): Promise<Message>;
  /** A send was answered with its message. */
  answered(m: Message): void;
  /** What a conversation shows of its outbox changed. */
  changed(conversationId: string): void;
  /** Why a send failed, for a person. */
  describe(e: unknown): string;
}

/** The outboxes of all conversations (empty ones are not kept). Only a
 *  send's own answer settles or fails its entry. */
export class Outboxes {
  private byConversation = new Map<string, Outbox>();
  private closed = false;

  constructor(private hooks: OutboxHooks) {}

  /** The entries of a conversation to show, oldest first. */
  visible(conversationId: string): Pending[] {
    return visible(this.get(conversationId));
  }

  /** Queues content and sends it. */
  send(conversationId: string, content: string, opts: SendOptions = {}) {
    const p: Pending = { clientToken: randomToken(), content, createdAt: new Date().toISOString(), status: 'sending', ...opts };
    this.set(conversationId, enqueue(this.get(conversationId), p));
    void this.deliver(conversationId, p);
  }

  /** Sends a failed entry again. */
  retry(conversationId: string, clientToken: string) {
    const p = this.get(conversationId).pending.find((x) => x.clientToken === clientToken);
    if (!p || p.status !== 'failed') return;
    this.set(conversationId, retry(this.get(conversationId), clientToken));
    void this.deliver(conversationId, p);
  }

  /** Forgets a failed entry. */
  discard(conversationId: string, clientToken: string) {
    this.set(conversationId, discard(this.get(conversationId), clientToken));
  }

  /** An own message arrived on the stream, not shown before (see noteEarly). */
  noteEarly(conversationId: string, m: Message) {
    this.set(conversationId, noteEarly(this.get(conversationId), m));
  }

  /** Ignores answers from now on. */
  close() {
    this.closed = true;
  }

  private get(conversationId: string): Outbox {
    return this.byConversation.get(conversationId) ?? emptyOutbox;
  }

  private set(conversationId: string, o: Outbox) {
    if (o === this.get(conversationId)) return;
    if (isEmpty(o)) this.byConversation.delete(conversationId);
    else this.byConversation.set(conversationId, o);
    this.hooks.changed(conversationId);
  }

  private async deliver(conversationId: string, p: Pending) {
    let m: Message;
    try {
      m = await this.hooks.send(conversationId, p);
    } catch (e) {
      if (!this.closed) this.set(conversationId, fail(this.get(conversationId), p.clientToken, this.hooks.describe(e)));
      return;
    }
    if (this.closed) return;
    this.set(conversationId, settle(this.get(conversationId), p.clientToken, m));
    this.hooks.answered(m);
  }
}
