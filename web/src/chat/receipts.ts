// Read receipts: how far each other member has read the open conversation
// (Conversation.readBy, then onReadReceipt), shown as ticks on our own
// messages and as the readers' avatars under the last message each has read.
// Members who hide their receipts never appear. Pure functions.

import type { Message, ReadMark } from '../api';

/** Read marks by user id. */
export type ReadMarks = ReadonlyMap<string, ReadMark>;

/** marks with mark merged in: a mark never moves back (events may cross). */
export function mergeReadMark(marks: ReadMarks, mark: ReadMark): Map<string, ReadMark> {
  const next = new Map(marks);
  const old = next.get(mark.userId);
  if (!old || mark.seq > old.seq) next.set(mark.userId, mark);
  return next;
}

/** The readers to show under each message: every user in marks but me, at
 *  the newest shown message their mark reaches (seq ≤ mark). messages are
 *  oldest first. A reader whose mark is below every shown message is left
 *  out. */
export function readersBySeq(messages: readonly Message[], marks: ReadMarks, me: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [userId, mark] of marks) {
    if (userId === me) continue;
    const at = lastAtOrBelow(messages, mark.seq);
    if (at === null) continue;
    out.set(at, [...(out.get(at) ?? []), userId]);
  }
  return out;
}

/** Who of others has read the message with seq (their mark reaches it). */
export function readBy(seq: number, marks: ReadMarks, others: readonly string[]): string[] {
  return others.filter((id) => (marks.get(id)?.seq ?? 0) >= seq);
}

/** The seq of the newest message with seq ≤ limit, or null. */
function lastAtOrBelow(messages: readonly Message[], limit: number): number | null {
  let lo = 0;
  let hi = messages.length - 1;
  let found: number | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (messages[mid].seq <= limit) {
      found = messages[mid].seq;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
