// Read marks: the open conversation is marked read up to the highest seq
// shown, a moment after it changed (so a burst sends one mutation), only
// while the page is visible, and never twice for the same or a lower seq.

/** How long after the last change a read mark is sent, in ms. */
export const readMarkDelayMs = 300;

/** The seq to send as read, or null when there is nothing new: seq is the
 *  highest shown, sent the highest already sent (or in flight). */
export function readMarkDue(seq: number, sent: number | undefined): number | null {
  return seq > 0 && seq > (sent ?? 0) ? seq : null;
}

/** Sends read marks through mark, debounced, remembering per conversation
 *  what was sent so a failure lets the next attempt send it again. */
export class ReadMarks {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sent = new Map<string, number>();

  /** flush runs readMarkDelayMs after the last schedule call. */
  constructor(private flush: () => void) {}

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(this.flush, readMarkDelayMs);
  }

  /** Sends seq for the conversation if it is due; mark's failure is
   *  swallowed (the next change tries again). */
  async send(conversationId: string, seq: number, mark: (id: string, seq: number) => Promise<unknown>) {
    const due = readMarkDue(seq, this.sent.get(conversationId));
    if (due === null) return;
    this.sent.set(conversationId, due);
    try {
      await mark(conversationId, due);
    } catch {
      if (this.sent.get(conversationId) === due) this.sent.delete(conversationId);
    }
  }

  stop() {
    clearTimeout(this.timer);
  }
}
