// The reply thread of one message, beside the conversation (over it at
// phone width): the root, its replies (newest at the bottom, older pages on
// demand), and a composer that replies in the thread, with files of its own
// (attached, dropped on the panel or pasted). Escape closes it.

import { useEffect, useRef } from 'preact/hooks';
import type { ReplyThread } from '../chat';
import { useChat } from './hooks';
import { Composer } from './Composer';
import { dropInto, useTray } from './Attachments';
import { MessageItem, PendingItem } from './MessageItem';
import { IconClose } from './icons';

export function RepliesPanel(props: { replies: ReplyThread }) {
  const chat = useChat();
  const r = props.replies;
  const me = chat.state.userId;
  const pending = (chat.state.thread?.pending ?? []).filter((p) => p.parentMessageId === r.rootId);
  const list = useRef<HTMLDivElement>(null);
  const count = r.messages.length + pending.length;
  const tray = useTray(r.conversationId, r.rootId);
  const canReply = !r.loading && !!r.root && !r.root.deletedAt;

  // Stay at the newest reply as replies come.
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count, r.loading]);

  return (
    <aside
      class="replies"
      aria-label="Thread"
      {...dropInto(tray, canReply)}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !(e.target as HTMLElement).closest('.edit-box, .picker, .mention-list, .viewer')) {
          e.preventDefault();
          chat.closeReplies();
        }
      }}
    >
      <header class="replies-head">
        <h3>Thread</h3>
        <button class="icon-btn" aria-label="Close thread" title="Close thread" onClick={() => chat.closeReplies()}>
          <IconClose />
        </button>
      </header>
      <div class="replies-body" ref={list}>
        {r.root && (
          <ol class="message-list replies-root" aria-label="Thread root">
            <MessageItem m={r.root} mine={r.root.userId === me} grouped={false} highlight={false} inReplies />
          </ol>
        )}
        {r.root?.deletedAt && <p class="muted pad">This message was deleted.</p>}
        <div class="history-edge">
          {r.loading ? (
            <p class="muted">Loading replies…</p>
          ) : r.error ? (
            <p class="inline-error" role="alert">
              {r.error}{' '}
              <button class="link" onClick={() => void chat.loadReplies(r, !!r.messages.length)}>
                Retry
              </button>
            </p>
          ) : r.nextToken ? (
            <button class="link" disabled={r.loadingOlder} onClick={() => void chat.loadReplies(r, true)}>
              {r.loadingOlder ? 'Loading older replies…' : 'Load older replies'}
            </button>
          ) : !count ? (
            <p class="muted">No replies yet.</p>
          ) : null}
        </div>
        <ol class="message-list" role="log" aria-live="polite" aria-relevant="additions" aria-label="Replies">
          {r.messages.map((m) => (
            <MessageItem key={m.messageId} m={m} mine={m.userId === me} grouped={false} highlight={false} inReplies />
          ))}
          {pending.map((p) => (
            <PendingItem key={p.clientToken} p={p} />
          ))}
        </ol>
      </div>
      {!r.root?.deletedAt && <Composer conversationId={r.conversationId} parentMessageId={r.rootId} disabled={r.loading || !r.root} />}
    </aside>
  );
}
