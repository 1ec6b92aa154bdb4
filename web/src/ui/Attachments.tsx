import { useEffect, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import type { Attachment, Message } from '../api';
import { Tray, Trays, expired, formatSize, type TrayItem } from '../chat/attachments';
import { freshAttachments, serverFiles } from '../filesapi';

const trays = new Trays(serverFiles);

/** The tray of a draft: a conversation's composer, or with
 *  parentMessageId the reply composer of that thread. It is kept while
 *  switching (like the text of drafts); the component re-renders when it
 *  changes. */
export function useTray(conversationId: string, parentMessageId?: string): Tray {
  const [, setTick] = useState(0);
  const draft = { conversationId, parentMessageId };
  useEffect(() => trays.listen(draft, () => setTick((n) => n + 1)), [conversationId, parentMessageId]);
  return trays.get(draft);
}

/** The files of a clipboard paste or a drop, if any. */
export function filesOf(dt: DataTransfer | null): File[] {
  return dt ? Array.from(dt.files) : [];
}

/** Handlers for an element that takes files dropped on it into tray
 *  (when enabled); such a drop never reaches an outer drop target, so a
 *  file dropped on the thread panel never lands in the conversation's
 *  composer. */
export function dropInto(tray: Tray, enabled: boolean) {
  return {
    onDragOver: (e: JSX.TargetedDragEvent<HTMLElement>) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.stopPropagation();
    },
    onDrop: (e: JSX.TargetedDragEvent<HTMLElement>) => {
      const dropped = filesOf(e.dataTransfer);
      if (!dropped.length) return;
      e.preventDefault(); // never let the browser open the file instead
      e.stopPropagation();
      if (enabled) tray.add(dropped);
    },
  };
}

/** A paper-clip button that opens the file picker (its input has the id
 *  inputId, for tests and automation). */
export function AttachButton(props: { tray: Tray; inputId: string; disabled?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const label = props.tray.draft.parentMessageId ? 'Attach files to the reply' : 'Attach files';
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        class="sr-only"
        id={props.inputId}
        aria-hidden="true"
        tabIndex={-1}
        onChange={(e) => {
          props.tray.add(Array.from(e.currentTarget.files ?? []));
          e.currentTarget.value = '';
        }}
      />
      <button
        type="button"
        class="icon-btn attach"
        aria-label={label}
        title={label}
        disabled={props.disabled}
        onClick={() => input.current?.click()}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6L15 7"
          />
        </svg>
      </button>
    </>
  );
}

/** The files waiting to be sent: name, size, progress, cancel, retry. */
export function TrayView(props: { tray: Tray }) {
  const items = props.tray.items;
  if (!items.length) return null;
  return (
    <ul class="tray" aria-label={props.tray.draft.parentMessageId ? 'Files to send with the reply' : 'Files to send'}>
      {items.map((it) => (
        <TrayChip key={it.key} item={it} tray={props.tray} />
      ))}
    </ul>
  );
}

function TrayChip(props: { item: TrayItem; tray: Tray }) {
  const { item: it, tray } = props;
  const pct = it.file.size ? Math.round((100 * it.sent) / it.file.size) : 100;
  const label = { uploading: `${pct}%`, checking: 'Checking…', done: 'Ready', failed: 'Failed' }[it.status];
  return (
    <li class={`tray-item ${it.status}`} data-status={it.status}>
      <span class="tray-name" title={it.file.name}>
        {it.file.name || 'pasted file'}
      </span>
      <span class="tray-size">{formatSize(it.file.size)}</span>
      {it.status === 'uploading' && (
        <progress max={100} value={pct} aria-label={`Uploading ${it.file.name}`}>
          {pct}%
        </progress>
      )}
      <span class="tray-status" aria-live="polite">
        {label}
      </span>
      {it.status === 'failed' && (
        <>
          <span class="tray-error" role="alert">
            {it.error}
          </span>
          <button type="button" class="link" onClick={() => tray.retry(it.key)}>
            Retry
          </button>
        </>
      )}
      <button
        type="button"
        class="icon-btn tray-remove"
        aria-label={it.status === 'uploading' ? `Cancel ${it.file.name}` : `Remove ${it.file.name}`}
        title={it.status === 'uploading' ? 'Cancel' : 'Remove'}
        onClick={() => tray.remove(it.key)}
      >
        ×
      </button>
    </li>
  );
}

/** A message's files: images as thumbnails that open the original, other
 *  files as chips with name and size. Links expire after two minutes, so a
 *  click on an old one reads the message again for a fresh one. */
export function MessageAttachments(props: { m: Message }) {
  const [atts, setAtts] = useState<Attachment[]>(props.m.attachments ?? []);
  const [viewing, setViewing] = useState<Attachment | null>(null);
  useEffect(() => setAtts(props.m.attachments ?? []), [props.m.attachments]);
  if (!atts.length) return null;

  const download = async (e: MouseEvent, a: Attachment) => {
    if (!expired(a)) return; // the browser follows the link
    e.preventDefault();
    const fresh = await freshAttachments(props.m.conversationId, props.m.messageId).catch(() => []);
    setAtts(fresh.length ? fresh : atts);
    const f = fresh.find((x) => x.attachmentId === a.attachmentId);
    if (!f) return;
    const link = document.createElement('a');
    link.href = f.url;
    link.download = f.fileName;
    link.click();
  };

  const view = async (e: MouseEvent, a: Attachment) => {
    e.preventDefault();
    if (!expired(a)) return setViewing(a);
    const fresh = await freshAttachments(props.m.conversationId, props.m.messageId).catch(() => []);
    if (fresh.length) setAtts(fresh);
    setViewing(fresh.find((x) => x.attachmentId === a.attachmentId) ?? null);
  };

  return (
    <div class="attachments">
      {viewing && <Viewer a={viewing} onClose={() => setViewing(null)} />}
      {atts.map((a) =>
        a.thumbnailUrl ? (
          <a
            key={a.attachmentId}
            class="att-image"
            href={a.previewUrl ?? a.url}
            onClick={(e) => view(e as unknown as MouseEvent, a)}
          >
            <img
              src={a.thumbnailUrl}
              alt={a.fileName}
              width={thumbSize(a).w}
              height={thumbSize(a).h}
              loading="lazy"
            />
          </a>
        ) : (
          <a
            key={a.attachmentId}
            class="att-file"
            href={a.url}
            download={a.fileName}
            onClick={(e) => download(e as unknown as MouseEvent, a)}
          >
            <span class="att-name">{a.fileName}</span>
            <span class="att-size">{formatSize(a.size)}</span>
          </a>
        ),
      )}
    </div>
  );
}

/** The shown size of a thumbnail: within 240 px, never upscaled. */
function thumbSize(a: Attachment): { w?: number; h?: number } {
  if (!a.width || !a.height) return {};
  const s = Math.min(1, 240 / Math.max(a.width, a.height));
  return { w: Math.round(a.width * s), h: Math.round(a.height * s) };
}

/** An image shown large over the page (the links download, so an <img>
 *  shows them), with the original to download. Escape closes it. */
function Viewer(props: { a: Attachment; onClose(): void }) {
  const { a } = props;
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && props.onClose();
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  return (
    <div class="viewer" role="dialog" aria-modal="true" aria-label={a.fileName} onClick={props.onClose}>
      <img src={a.previewUrl ?? a.url} alt={a.fileName} onClick={(e) => e.stopPropagation()} />
      <div class="viewer-bar" onClick={(e) => e.stopPropagation()}>
        <span>
          {a.fileName} · {a.width} × {a.height} · {formatSize(a.size)}
        </span>
        <a href={a.url} download={a.fileName}>
          Download original
        </a>
        <button ref={close} type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
