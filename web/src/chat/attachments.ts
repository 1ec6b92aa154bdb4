// Files sent with a message (issue 13). A file goes straight to the blob
// store on the presigned target createUpload returns (never through
// GraphQL), with a progress bar and a cancel; completeUpload then has the
// server check it, so that sending is quick. The tray of a conversation
// holds its files until the message goes: failed ones offer a retry.

import { gql, describeError, type Attachment, type Message, messageFields } from '../api';

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

interface Target {
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

/** Sends body to a presigned target, reporting progress; resolves when the
 *  store took it. abort() stops it (the promise then rejects). */
export function putFile(t: Target, body: Blob, onProgress: (sent: number) => void): { done: Promise<void>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open(t.method, t.url);
    for (const h of t.headers) xhr.setRequestHeader(h.name, h.value);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`The upload was refused (${xhr.status}).`)));
    xhr.onerror = () => reject(new Error('The upload failed: check your connection.'));
    xhr.onabort = () => reject(new Error('Cancelled.'));
    xhr.send(body);
  });
  return { done, abort: () => xhr.abort() };
}

const attachmentFields = 'attachmentId fileName contentType size width height url thumbnailUrl previewUrl expiresAt';

/** Tray is one conversation's files waiting to be sent. It calls onChange
 *  after every change; items are replaced, never mutated, so components
 *  can compare them. */
export class Tray {
  items: TrayItem[] = [];
  private next = 1;

  constructor(
    readonly conversationId: string,
    private onChange: () => void,
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
      const d = await gql<{ createUpload: Target }>(
        `mutation CreateUpload($c: ID!, $n: String!, $t: String!, $s: Int!) {
          createUpload(conversationId: $c, fileName: $n, contentType: $t, size: $s) { uploadId url method headers { name value } }
        }`,
        { c: this.conversationId, n: item.file.name || 'pasted-file', t: declaredType(item.file), s: item.file.size },
      );
      const t = d.createUpload;
      const put = putFile(t, item.file, (sent) => this.set(key, { sent }));
      this.set(key, { uploadId: t.uploadId, abort: put.abort });
      await put.done;
      this.set(key, { status: 'checking', sent: item.file.size, abort: undefined });
      const c = await gql<{ completeUpload: Attachment }>(
        `mutation Complete($u: ID!) { completeUpload(uploadId: $u) { ${attachmentFields} } }`,
        { u: t.uploadId },
      );
      this.set(key, { status: 'done', attachment: c.completeUpload });
    } catch (e) {
      if (!this.items.some((it) => it.key === key)) return; // cancelled and removed
      this.set(key, { status: 'failed', error: describeError(e), abort: undefined });
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

  /** Sends a message with every uploaded file and the text; the message
   *  comes back through the conversation's subscription like any other.
   *  The tray empties when the send succeeds. */
  async send(content: string): Promise<Message> {
    const ids = this.ready;
    const d = await gql<{ sendMessage: Message }>(
      `mutation SendFiles($input: SendMessageInput!) { sendMessage(input: $input) { ${messageFields} } }`,
      { input: { conversationId: this.conversationId, content, attachments: ids } },
    );
    this.items = this.items.filter((it) => !it.uploadId || !ids.includes(it.uploadId));
    this.onChange();
    return d.sendMessage;
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

/** Reads a message again for fresh links. */
export async function freshAttachments(conversationId: string, messageId: string): Promise<Attachment[]> {
  const d = await gql<{ getMessage: { attachments: Attachment[] } | null }>(
    `query Fresh($c: ID!, $m: ID!) { getMessage(conversationId: $c, messageId: $m) { attachments { ${attachmentFields} } } }`,
    { c: conversationId, m: messageId },
  );
  return d.getMessage?.attachments ?? [];
}
