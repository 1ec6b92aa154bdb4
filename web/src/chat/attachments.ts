// Files sent with a message (issue 13). A file goes straight to the blob
// store on the presigned target createUpload returns (never through
// GraphQL), with a progress bar and a cancel; completeUpload then has the
// server check it, so that sending is quick. Each draft (a conversation's
// composer, or the reply composer of one of its threads) has a tray that
// holds its files until the message goes: failed ones offer a retry.

import type { Attachment, Message } from '../api';

export type UploadStatus = 'uploading' | 'checking' | 'done' | 'failed';

export interface TrayItem {
  key: number;
  file: File;
  status: UploadStatus;
  /** Bytes sent so far, for the progress bar. */
  sent: number;
  error?: string;
  uploadId?: string;
  attachment?: Attachment;
  abort?: () => void;
}

export interface Target {
  uploadId: string;
  url: string;
  method: string;
  headers: { name: string; value: string }[];
}

/** The type a file is declared with: the browser's guess, or one from the
 *  extension for the types the browser leaves empty. */
export function declaredType(f: File): string {
  if (f.type) return f.type;
  const ext = f.name.toLowerCase().split('.').pop() ?? '';
  return { md: 'text/markdown', csv: 'text/csv', txt: 'text/plain', '7z': 'application/x-7z-compressed' }[ext] ?? 'application/octet-stream';
}

/** A draft: a conversation's composer, or (with parentMessageId) the
 *  reply composer of the thread of that message. */
export interface Draft {
  conversationId: string;
  parentMessageId?: string;
}

/** The key of a draft, for the maps that keep drafts' text and files. */
export function draftKey(d: Draft): string {
  return `${d.conversationId}/${d.parentMessageId ?? ''}`;
}

/** The server calls a tray makes (filesapi.ts; tests give their own). */
export interface FileApi {
  createUpload(conversationId: string, file: File): Promise<Target>;
  /** Sends file to t, reporting progress; done resolves when the store
   *  took it, abort() stops it (done then rejects). */
  put(t: Target, file: File, onProgress: (sent: number) => void): { done: Promise<void>; abort: () => void };
  completeUpload(uploadId: string): Promise<Attachment>;
  sendMessage(input: Record<string, unknown>): Promise<Message>;
  /** The words to show for a failure. */
  describe(e: unknown): string;
}

/** Tray is one draft's files waiting to be sent. It calls onChange after
 *  every change; items are replaced, never mutated, so components can
 *  compare them. */
export class Tray {
  items: TrayItem[] = [];
  private next = 1;

  constructor(
    readonly draft: Draft,
    private onChange: () => void,
    private api: FileApi,
  ) {}

  /** Adds files and starts uploading each. */
  add(files: Iterable<File>) {
    for (const file of files) {
      const item: TrayItem = { key: this.next++, file, status: 'uploading', sent: 0 };
      this.items = [...this.items, item];
      void this.upload(item.key);
    }
    this.onChange();
  }

  private set(key: number, patch: Partial<TrayItem>) {
    this.items = this.items.map((it) => (it.key === key ? { ...it, ...patch } : it));
    this.onChange();
  }

  private async upload(key: number) {
    const item = this.items.find((it) => it.key === key);
    if (!item) return;
    try {
      const t = await this.api.createUpload(this.draft.conversationId, item.file);
      const put = this.api.put(t, item.file, (sent) => this.set(key, { sent }));
      this.set(key, { uploadId: t.uploadId, abort: put.abort });
      await put.done;
      this.set(key, { status: 'checking', sent: item.file.size, abort: undefined });
      const attachment = await this.api.completeUpload(t.uploadId);
      this.set(key, { status: 'done', attachment });
    } catch (e) {
      if (!this.items.some((it) => it.key === key)) return; // cancelled and removed
      this.set(key, { status: 'failed', error: this.api.describe(e), abort: undefined });
    }
  }

  /** Stops an upload (if running) and removes the file from the tray. */
  remove(key: number) {
    const item = this.items.find((it) => it.key === key);
    this.items = this.items.filter((it) => it.key !== key);
    item?.abort?.();
    this.onChange();
  }

  /** Starts a failed file over. */
  retry(key: number) {
    this.set(key, { status: 'uploading', sent: 0, error: undefined, uploadId: undefined });
    void this.upload(key);
  }

  get busy() {
    return this.items.some((it) => it.status === 'uploading' || it.status === 'checking');
  }

  get ready(): string[] {
    return this.items.filter((it) => it.status === 'done' && it.uploadId).map((it) => it.uploadId!);
  }

  /** Sends a message with every uploaded file and the text, in the
   *  draft's thread if it has one (alsoInConversation: shown in the
   *  timeline too), with the members the text @mentions; the message
   *  comes back through the conversation's change stream like any other.
   *  The tray empties when the send succeeds. */
  async send(content: string, alsoInConversation = false, mentions: readonly string[] = []): Promise<Message> {
    const ids = this.ready;
    const { conversationId, parentMessageId } = this.draft;
    const m = await this.api.sendMessage({
      conversationId,
      content,
      attachments: ids,
      ...(parentMessageId ? { parentMessageId, alsoInConversation } : {}),
      ...(mentions.length ? { mentions } : {}),
    });
    this.items = this.items.filter((it) => !it.uploadId || !ids.includes(it.uploadId));
    this.onChange();
    return m;
  }
}

/** Trays keeps the tray of every draft while the user moves between
 *  conversations and threads (like the drafts' text), and tells each
 *  draft's listeners of its own tray's changes only. */
export class Trays {
  private trays = new Map<string, Tray>();
  private listeners = new Map<string, Set<() => void>>();

  constructor(private api: FileApi) {}

  /** The tray of d, made on first use. */
  get(d: Draft): Tray {
    const key = draftKey(d);
    let tray = this.trays.get(key);
    if (!tray) {
      tray = new Tray({ ...d }, () => {
        for (const l of this.listeners.get(key) ?? []) l();
      }, this.api);
      this.trays.set(key, tray);
    }
    return tray;
  }

  /** Calls l after each change to d's tray, until the returned function
   *  is called. */
  listen(d: Draft, l: () => void): () => void {
    const key = draftKey(d);
    const set = this.listeners.get(key) ?? new Set();
    set.add(l);
    this.listeners.set(key, set);
    return () => set.delete(l);
  }
}

/** Human size: 1.2 MB, 340 kB, 12 bytes. */
export function formatSize(n: number): string {
  if (n < 1000) return `${n} bytes`;
  if (n < 1_000_000) return `${Math.round(n / 100) / 10} kB`.replace('.0 ', ' ');
  return `${Math.round(n / 100_000) / 10} MB`.replace('.0 ', ' ');
}

/** Whether a link minted by the server has expired (links live two
 *  minutes; the message is read again for new ones). */
export function expired(a: Attachment, now = Date.now()): boolean {
  return Date.parse(a.expiresAt) - 5_000 <= now;
}
