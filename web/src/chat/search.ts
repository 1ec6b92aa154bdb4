// Search within the open conversation: the checks the server makes on a
// term, done first so the person learns at once, and how results follow
// deletions. Pure functions.

import type { Message } from '../api';
import { maxSearchTermBytes, maxSearchWords, utf8Bytes } from '../limits';
import type { SearchState } from './state';

/** A search just started for term. */
export function newSearch(term: string): SearchState {
  return { term, loading: true, results: null, error: null };
}

/** The words the server searches for in term: runs of letters, digits and
 *  combining marks (store/sqlite ftsQuery, store/postgres words). */
export function searchWords(term: string): string[] {
  return term.match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
}

/** Why the server would refuse term (already trimmed), or null if it takes
 *  it (a term without words is taken, and matches nothing). */
export function searchTermProblem(term: string): string | null {
  if (!term) return 'there is nothing to search for.';
  if (utf8Bytes(term) > maxSearchTermBytes) return `the search term is longer than ${maxSearchTermBytes} bytes.`;
  return null;
}

/** A note for a term the server takes only in part, or null. */
export function searchTermNote(term: string): string | null {
  const n = searchWords(term).length;
  return n > maxSearchWords ? `Only the first ${maxSearchWords} of ${n} words are searched.` : null;
}

/** results without a deleted message. */
export function withoutResult(results: readonly Message[] | null, messageId: string): Message[] | null {
  return results && results.filter((m) => m.messageId !== messageId);
}

/** results with an edited message's new copy in place of its old one. */
export function withEdited(results: readonly Message[] | null, m: Message): Message[] | null {
  return results && results.map((r) => (r.messageId === m.messageId && (m.changeSeq ?? 0) >= (r.changeSeq ?? 0) ? m : r));
}
