// The subscriptions the app holds on the realtime connection. Each returns
// its stop function; the realtime client resubscribes them after a reconnect,
// asking for the variables again (so a message stream resumes after the last
// seq seen).

import { conversationFields, messageFields, userFields, type Conversation, type Message, type User } from '../api';
import type { GraphQLError, Realtime } from '../realtime';

/** Follows the caller's conversations: created, renamed, new messages. */
export function followConversations(rt: Realtime, userId: string, update: (c: Conversation) => void): () => void {
  return rt.subscribe<{ onConversationUpdated: Conversation | null }>(
    `subscription ConversationUpdated($userId: ID!) { onConversationUpdated(userId: $userId) { ${conversationFields} } }`,
    () => ({ userId }),
    { next: (d) => d.onConversationUpdated && update(d.onConversationUpdated) },
  );
}

export interface ThreadHandlers {
  /** A message after afterSeq, in seq order. */
  message(m: Message): void;
  deleted(messageId: string): void;
  /** The message stream ended with an error (e.g. too far behind to resume). */
  error(errs: readonly GraphQLError[]): void;
}

/** Follows one conversation's messages after afterSeq() (read at each
 *  (re)subscribe) and its deletions. */
export function followThread(rt: Realtime, conversationId: string, afterSeq: () => number, h: ThreadHandlers): () => void {
  const stops = [
    rt.subscribe<{ onMessageSent: Message | null }>(
      `subscription MessageSent($c: ID!, $after: Int) { onMessageSent(conversationId: $c, afterSeq: $after) { ${messageFields} } }`,
      () => ({ c: conversationId, after: afterSeq() }),
      { next: (d) => d.onMessageSent && h.message(d.onMessageSent), error: (errs) => h.error(errs) },
    ),
    rt.subscribe<{ onMessageDeleted: Message | null }>(
      `subscription MessageDeleted($c: ID!) { onMessageDeleted(conversationId: $c) { ${messageFields} } }`,
      () => ({ c: conversationId }),
      { next: (d) => d.onMessageDeleted && h.deleted(d.onMessageDeleted.messageId) },
    ),
  ];
  return () => stops.forEach((f) => f());
}

/** The onUserPresenceUpdated subscriptions, one per followed conversation. */
export class PresenceSubscriptions {
  private subs = new Map<string, () => void>();

  constructor(
    private rt: Realtime,
    private onUser: (u: User) => void,
  ) {}

  /** Follows exactly the conversations in ids: stops the others, starts the new ones. */
  follow(ids: readonly string[]) {
    const keep = new Set(ids);
    for (const [id, stop] of this.subs) {
      if (!keep.has(id)) {
        stop();
        this.subs.delete(id);
      }
    }
    for (const id of ids) {
      if (this.subs.has(id)) continue;
      this.subs.set(
        id,
        this.rt.subscribe<{ onUserPresenceUpdated: User | null }>(
          `subscription Presence($c: ID!) { onUserPresenceUpdated(conversationId: $c) { ${userFields} } }`,
          () => ({ c: id }),
          { next: (d) => d.onUserPresenceUpdated && this.onUser(d.onUserPresenceUpdated) },
        ),
      );
    }
  }

  stop() {
    this.follow([]);
  }
}
