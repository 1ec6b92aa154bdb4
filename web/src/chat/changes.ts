// The change log of the open conversation (onConversationChanged): every
// send, edit, deletion, reaction and thread update, in changeSeq order.
// After a drop the subscription is made again with afterChange = the highest
// changeSeq seen, so the server replays exactly what changed meanwhile; these
// functions fold changes into what is shown. Pure functions.

import type { Conversation, ConversationChange, Message } from '../api';
import { mergeMessages, moderatorDeleted } from './timeline';

/** Messages kept by seq, and the ids of those seen deleted. */
export interface MessageView {
  messages: Message[];
  deleted: Set<string>;
}

/** view with incoming applied: a tombstone (deletedAt set) removes its
 *  message for good, but a moderator's tombstone takes its place (it says
 *  "deleted by a moderator"); a live message for which belongs holds joins,
 *  or replaces an older copy. */
export function applyMessages(view: MessageView, incoming: readonly Message[], belongs: (m: Message) => boolean): MessageView {
  const gone = incoming.filter((m) => m.deletedAt);
  const deleted = gone.length ? new Set([...view.deleted, ...gone.map((m) => m.messageId)]) : view.deleted;
  const shown = incoming.filter((m) => (!m.deletedAt || moderatorDeleted(m)) && belongs(m));
  const messages = mergeMessages(
    view.messages.filter((m) => !deleted.has(m.messageId) || moderatorDeleted(m)),
    shown,
    deleted,
  );
  return { messages, deleted };
}

/** The messages the changes carry, in order (a message changed twice is
 *  there twice: the later copy wins where they are merged). A deletion's
 *  message is a tombstone even if it came without deletedAt (then the
 *  change's time is taken). */
export function changedMessages(changes: readonly ConversationChange[]): Message[] {
  return changes.flatMap((c) => {
    if (!c.message) return [];
    if (c.kind === 'MESSAGE_DELETED' && !c.message.deletedAt) return [{ ...c.message, deletedAt: c.at }];
    return [c.message];
  });
}

/** The conversations the changes carry (renames). */
export function changedConversations(changes: readonly ConversationChange[]): Conversation[] {
  return changes.flatMap((c) => (c.kind === 'CONVERSATION_UPDATED' && c.conversation ? [c.conversation] : []));
}

/** The position to resume from after these changes: the highest changeSeq. */
export function lastChange(since: number, changes: readonly ConversationChange[]): number {
  return changes.reduce((hi, c) => Math.max(hi, c.changeSeq), since);
}

/** The messages of changes that are new sends (for previews and read marks). */
export function sentMessages(changes: readonly ConversationChange[]): Message[] {
  return changes.flatMap((c) => (c.kind === 'MESSAGE_SENT' && c.message && !c.message.deletedAt ? [c.message] : []));
}
