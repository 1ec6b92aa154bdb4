import { useEffect, useRef, useState } from 'preact/hooks';
import type { Attachment, Message } from '../api';
import { Tray, expired, formatSize, freshAttachments, type TrayItem } from '../chat/attachments';

const trays = new Map<string, Tray>();

/** The tray of a conversation, kept while switching conversations (like
 *  drafts); the component re-renders when it changes. */
export function useTray(conversationId: string): Tray {
  const [, setTick] = useState(0);
  let tray = trays.get(conversationId);
  if (!tray) {
    tray = new Tray(conversationId, () => {
      for (const l of listeners.get(conversationId) ?? []) l();
    });
    trays.set(conversationId, tray);
  }
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    const set = listeners.get(conversationId) ?? new Set();
    set.add(l);
    listeners.set(conversationId, set);
    return () => set.delete(l);
  }, [conversationId]);
  return tray;
}

const listeners = new Map<string, Set<() => void>>();

/** The files of a clipboard paste or a drop, if any. */
export function filesOf(dt: DataTransfer | null): File[] {
  return dt ? Array.from(dt.files) : [];
}

/** A paper-clip button that opens the file picker. */
export function AttachButton(props: { tray: Tray; disabled?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        class="sr-only"
        id="attach-input"
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
        aria-label="Attach files"
        title="Attach files"
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
    <ul class="tray" aria-label="Files to send">
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
