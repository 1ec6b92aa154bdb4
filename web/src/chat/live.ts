// The subscriptions the app holds on the realtime connection. Each returns
// its stop function; the realtime client resubscribes them after a reconnect,
// asking for the variables again (so the change log resumes after the last
// change seen).

import {
  changeFields,
  conversationFields,
  invitationFields,
  readMarkFields,
  typingFields,
  userFields,
  type Conversation,
  type ConversationChange,
  type Invitation,
  type ReadMark,
  type TypingEvent,
  type User,
} from '../api';
import type { GraphQLError, Realtime } from '../realtime';

/** Follows the caller's conversations: created, renamed, new messages. */
export function followConversations(rt: Realtime, userId: string, update: (c: Conversation) => void): () => void {
  return rt.subscribe<{ onConversationUpdated: Conversation | null }>(
    `subscription ConversationUpdated($userId: ID!) { onConversationUpdated(userId: $userId) { ${conversationFields} } }`,
    () => ({ userId }),
    { next: (d) => d.onConversationUpdated && update(d.onConversationUpdated) },
  );
}

/** Follows the caller's new invitations. */
export function followInvitations(rt: Realtime, userId: string, update: (i: Invitation) => void): () => void {
  return rt.subscribe<{ onInvitation: Invitation | null }>(
    `subscription Invited($userId: ID!) { onInvitation(userId: $userId) { ${invitationFields} } }`,
    () => ({ userId }),
    { next: (d) => d.onInvitation && update(d.onInvitation) },
  );
}

export interface ThreadHandlers {
  /** A change after afterChange, in changeSeq order. */
  change(c: ConversationChange): void;
  /** The change stream ended with an error (e.g. too far behind to resume). */
  error(errs: readonly GraphQLError[]): void;
  typing(ev: TypingEvent): void;
  readMark(mark: ReadMark): void;
}

/** Follows one conversation: its change log after afterChange() (read at
 *  each (re)subscribe, so after a drop the server replays exactly what
 *  changed meanwhile), who types, and the others' read marks. */
export function followThread(rt: Realtime, conversationId: string, afterChange: () => number, h: ThreadHandlers): () => void {
  const stops = [
    rt.subscribe<{ onConversationChanged: ConversationChange | null }>(
      `subscription Changes($c: ID!, $after: Int) { onConversationChanged(conversationId: $c, afterChange: $after) { ${changeFields} } }`,
      () => ({ c: conversationId, after: afterChange() }),
      { next: (d) => d.onConversationChanged && h.change(d.onConversationChanged), error: (errs) => h.error(errs) },
    ),
    rt.subscribe<{ onTyping: TypingEvent | null }>(
      `subscription Typing($c: ID!) { onTyping(conversationId: $c) { ${typingFields} } }`,
      () => ({ c: conversationId }),
      { next: (d) => d.onTyping && h.typing(d.onTyping) },
    ),
    rt.subscribe<{ onReadReceipt: ReadMark | null }>(
      `subscription Receipts($c: ID!) { onReadReceipt(conversationId: $c) { ${readMarkFields} } }`,
      () => ({ c: conversationId }),
      { next: (d) => d.onReadReceipt && h.readMark(d.onReadReceipt) },
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
