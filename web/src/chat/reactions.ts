// Reactions: the picker's choices, and what a toggle does to a message at
// once (before the server's answer, which replaces it: it has a higher
// changeSeq). Pure functions.

import type { Message, ReactionCount } from '../api';

/** The picker's reactions (keys are sent as they are: one emoji each). */
export const pickerKeys = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'] as const;

/** Whether toggling key on m adds a reaction (else it takes ours back). */
export function togglesOn(m: Message, key: string): boolean {
  return !m.reactions?.some((r) => r.key === key && r.reactedByMe);
}

/** m as it will be once me adds (add) or removes the reaction key: counts
 *  move by one, a key with no reactions left goes, a new key comes last. */
export function withReaction(m: Message, key: string, add: boolean, me: string): Message {
  const rs: ReactionCount[] = m.reactions ? m.reactions.map((r) => ({ ...r })) : [];
  const r = rs.find((x) => x.key === key);
  if (add) {
    if (r?.reactedByMe) return m;
    if (r) Object.assign(r, { count: r.count + 1, reactedByMe: true, userIds: [...r.userIds, me] });
    else rs.push({ key, count: 1, reactedByMe: true, userIds: [me] });
  } else {
    if (!r?.reactedByMe) return m;
    Object.assign(r, { count: r.count - 1, reactedByMe: false, userIds: r.userIds.filter((id) => id !== me) });
  }
  return { ...m, reactions: rs.filter((x) => x.count > 0) };
}
