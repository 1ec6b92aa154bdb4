// @mentions: completing "@na" in the composer to a member, finding the
// members a draft mentions (sent as SendMessageInput.mentions; the server
// accepts members only, at most maxMentions), and marking them in a shown
// message. A mention is "@" then the member's username, at the start of the
// text or after a character that cannot be in a username. Pure functions.

import type { User } from '../api';
import { maxMentions } from '../limits';

/** Most suggestions shown at once. */
export const maxSuggestions = 6;

/** Characters of a username (confab.ValidUsername). */
const usernameChar = /[A-Za-z0-9._\-@+]/;

/** The mention being typed just before caret: where its "@" is and what
 *  follows it; null when the caret is not in one. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  let i = caret;
  while (i > 0 && usernameChar.test(text[i - 1]) && text[i - 1] !== '@') i--;
  if (i === 0 || text[i - 1] !== '@') return null;
  const at = i - 1;
  if (at > 0 && (usernameChar.test(text[at - 1]) || text[at - 1] === '@')) return null;
  return { start: at, query: text.slice(i, caret) };
}

/** Members matching query (its start, in username or display name, any
 *  case), the closest first, at most maxSuggestions. */
export function mentionCandidates(members: readonly User[], query: string): User[] {
  const q = query.toLowerCase();
  const rank = (u: User): number => {
    const name = u.username.toLowerCase();
    const words = (u.displayName ?? '').toLowerCase().split(/\s+/);
    if (name.startsWith(q)) return 0;
    if (words.some((w) => w.startsWith(q))) return 1;
    return name.includes(q) ? 2 : -1;
  };
  return members
    .map((u) => ({ u, r: rank(u) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.u.username.localeCompare(b.u.username))
    .slice(0, maxSuggestions)
    .map((x) => x.u);
}

/** text with the mention at start (up to caret) completed to username,
 *  followed by a space, and where the caret goes then. */
export function completeMention(text: string, start: number, caret: number, username: string): { text: string; caret: number } {
  const insert = `@${username} `;
  const rest = text.slice(caret).replace(/^[A-Za-z0-9._\-+]*/, '').replace(/^ /, '');
  return { text: text.slice(0, start) + insert + rest, caret: start + insert.length };
}

/** A mention found in a text: [start, end) and whom it names. */
export interface MentionSpan {
  start: number;
  end: number;
  userId: string;
}

/** The mentions of members in text, in order. At each "@" the longest
 *  matching username wins (so @bob.smith is not @bob). */
export function findMentions(text: string, members: readonly Pick<User, 'userId' | 'username'>[]): MentionSpan[] {
  const byLength = [...members].sort((a, b) => b.username.length - a.username.length);
  const out: MentionSpan[] = [];
  for (let i = text.indexOf('@'); i !== -1; i = text.indexOf('@', i + 1)) {
    if (i > 0 && usernameChar.test(text[i - 1])) continue;
    const rest = text.slice(i + 1).toLowerCase();
    const u = byLength.find((m) => rest.startsWith(m.username.toLowerCase()) && !/^[A-Za-z0-9_]/.test(rest.slice(m.username.length)));
    if (!u) continue;
    out.push({ start: i, end: i + 1 + u.username.length, userId: u.userId });
    i += u.username.length;
  }
  return out;
}

/** The ids a draft mentions, once each, in order, at most maxMentions. */
export function mentionsIn(text: string, members: readonly Pick<User, 'userId' | 'username'>[]): string[] {
  return [...new Set(findMentions(text, members).map((s) => s.userId))].slice(0, maxMentions);
}
