// "X is typing…": who is typing in the open conversation (onTyping), and
// when to tell the server that we are (setTyping). Typing is ephemeral: the
// server never stores it and forgets a typist a few seconds after their last
// refresh; the client does the same, so a lost "stopped" event cannot leave
// someone typing forever.

import type { TypingEvent } from '../api';

/** How long a typist is shown after their last "typing" event, in ms. */
export const typingShownMs = 6_000;
/** While the person keeps typing, "typing" is sent again this often, in ms
 *  (within typingShownMs, and rarely enough for the server's rate limit). */
export const typingRefreshMs = 3_000;

/** Typists by user id, each with when they stop being shown (ms). */
export type Typists = ReadonlyMap<string, number>;

/** typists after ev, received at now. */
export function applyTyping(typists: Typists, ev: TypingEvent, now: number): Map<string, number> {
  const next = new Map(typists);
  if (ev.typing) next.set(ev.userId, now + typingShownMs);
  else next.delete(ev.userId);
  return next;
}

/** Who is typing at now (not me), in the order they started. */
export function activeTypists(typists: Typists, now: number, me: string): string[] {
  return [...typists].filter(([id, until]) => until > now && id !== me).map(([id]) => id);
}

/** The soonest time one of typists stops being shown, or null. */
export function nextExpiry(typists: Typists, now: number): number | null {
  let soonest: number | null = null;
  for (const until of typists.values()) if (until > now && (soonest === null || until < soonest)) soonest = until;
  return soonest;
}

/** The sentence for these typists' names, or '' when none. */
export function typingText(names: readonly string[]): string {
  switch (names.length) {
    case 0:
      return '';
    case 1:
      return `${names[0]} is typing…`;
    case 2:
      return `${names[0]} and ${names[1]} are typing…`;
    case 3:
      return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
    default:
      return `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
  }
}

/** Decides when our own typing is sent: "typing" on the first keystroke and
 *  again every typingRefreshMs while it goes on; "stopped" when the draft is
 *  emptied, sent or left. send's failures are the caller's to swallow. */
export class TypingSender {
  private sentAt = 0;
  private typing = false;

  constructor(private send: (typing: boolean) => void, private now: () => number = Date.now) {}

  /** The draft changed to text. */
  input(text: string) {
    if (!text.trim()) return this.stop();
    const t = this.now();
    if (this.typing && t - this.sentAt < typingRefreshMs) return;
    this.typing = true;
    this.sentAt = t;
    this.send(true);
  }

  /** The message was sent, the draft cleared, or the person left. */
  stop() {
    if (!this.typing) return;
    this.typing = false;
    this.send(false);
  }
}
