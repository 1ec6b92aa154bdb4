// Users and their presence: which conversations' presence to follow, and
// how user updates merge. Pure functions (chat/live.ts subscribes).
//
// Presence is followed for the most recently active conversations only: the
// server allows 100 subscriptions per connection (--max-subscriptions) and
// meters subscribe messages (20/s, bursts of 40), and a reconnect sends them
// all again at once.

import type { Conversation, User } from '../api';
import { byActivity } from './conversations';

/** Conversations whose presence is followed at most (the open one comes on top). */
export const maxPresenceSubscriptions = 25;

/** The conversations whose presence to follow: the max most recently active,
 *  and the open one (when it is a known conversation) even if older. */
export function presenceTargets(
  conversations: ReadonlyMap<string, Conversation>,
  openId: string | null,
  max = maxPresenceSubscriptions,
): string[] {
  const wanted = byActivity(conversations.values())
    .slice(0, max)
    .map((c) => c.conversationId);
  if (openId && conversations.has(openId) && !wanted.includes(openId)) wanted.push(openId);
  return wanted;
}

/** A user update merged into what is known: fields the update lacks (email
 *  is only sent for oneself) are kept. */
export function mergeUser(old: User | undefined, u: User): User {
  return { ...old, ...u };
}
