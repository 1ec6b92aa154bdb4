// One confirmed message: its text (mentions marked), time, "edited" with the
// earlier versions, read ticks, reactions with a picker, the reply thread's
// summary, and the actions (reply, react, edit and delete own). Every action
// is a button reachable by keyboard; on touch screens they stay visible.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Message, MessageEdit } from '../api';
import type { Pending } from '../chat';
import { findMentions } from '../chat/mentions';
import { pickerKeys } from '../chat/reactions';
import { maxContentBytes, utf8Bytes } from '../limits';
import { clockTime, fullTime, shortTime } from '../util';
import { useChat } from './hooks';
import { Avatar, displayName } from './common';
import { MessageAttachments } from './Attachments';
import { IconEdit, IconFlag, IconReply, IconSmile, IconTrash } from './icons';
import { canReact, isModerator } from '../chat/members';
import { moderatorDeleted } from '../chat/timeline';
import { UserDialog, ReportForm } from './UserDialog';

export interface MessageItemProps {
  m: Message;
  mine: boolean;
  grouped: boolean;
  highlight: boolean;
  /** Shown in the reply thread panel (no reply action or thread summary). */
  inReplies?: boolean;
  /** Other members whose read mark reaches this message (ticks). */
  readByIds?: string[];
  /** Other members in the conversation (ticks: read by all of them). */
  otherCount?: number;
  /** Readers whose newest read message this is (avatars under it). */
  readerIds?: string[];
}

export function MessageItem(props: MessageItemProps) {
  const chat = useChat();
  const { m, mine } = props;
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [editing, setEditing] = useState(false);
  const [picking, setPicking] = useState(false);
  const [history, setHistory] = useState<MessageEdit[] | 'loading' | string | null>(null);
  const [reporting, setReporting] = useState<'open' | 'sent' | null>(null);
  const [profile, setProfile] = useState(false);
  // moderators delete others' messages too (the tombstone says a moderator did)
  const mayDelete = mine || isModerator(chat.actor(m.conversationId));
  const conv = chat.state.conversations.get(m.conversationId);
  const mayReact = !conv || canReact(conv, chat.state.mutedUntil, Date.now());
  const author = mine ? 'You' : displayName(chat.state.users.get(m.userId), chat.userName(m.userId));
  const cls = ['msg', mine ? 'mine' : 'theirs', props.grouped ? 'grouped' : '', props.highlight ? 'highlight' : '']
    .filter(Boolean)
    .join(' ');

  const showHistory = async () => {
    if (history) return setHistory(null);
    setHistory('loading');
    try {
      setHistory(await chat.messageEdits(m));
    } catch {
      setHistory('Could not load the earlier versions.');
    }
  };

  if (moderatorDeleted(m)) {
    return (
      <li class={`${cls} tombstone`} data-seq={m.seq} data-message-id={m.messageId} data-deleted-by={m.deletedBy} tabIndex={-1}>
        <div class="msg-row">
          <div class="bubble">
            <em>{mine ? 'Your message' : `A message from ${author}`} was deleted by a moderator.</em>
          </div>
        </div>
      </li>
    );
  }

  return (
    <li class={cls} data-seq={m.seq} data-message-id={m.messageId} tabIndex={-1}>
      {!mine && !props.grouped && (
        <button type="button" class="msg-author" aria-label={`About ${author}`} onClick={() => setProfile(true)}>
          {author}
        </button>
      )}
      {profile && <UserDialog userId={m.userId} onClose={() => setProfile(false)} />}
      <div class="msg-row">
        <div class="bubble">
          <span class="sr-only">{author}: </span>
          {editing ? (
            <EditBox m={m} onDone={() => setEditing(false)} />
          ) : (
            m.content && (
              <span class="msg-text">
                <MessageText m={m} />
              </span>
            )
          )}
          <MessageAttachments m={m} />
          <span class="msg-meta">
            {m.editedAt && (
              <button
                class="edited"
                aria-expanded={history ? 'true' : 'false'}
                title={`Edited ${fullTime(m.editedAt)}: show earlier versions`}
                onClick={() => void showHistory()}
              >
                edited
              </button>
            )}
            <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
              {clockTime(m.createdAt)}
            </time>
            {mine && <Ticks readByIds={props.readByIds ?? []} otherCount={props.otherCount ?? 0} />}
          </span>
        </div>
        <div class="msg-actions" role="group" aria-label="Message actions">
          {!props.inReplies && !m.parentMessageId && (
            <button class="icon-btn msg-action" aria-label="Reply in thread" title="Reply in thread" onClick={() => chat.openReplies(m.messageId)}>
              <IconReply />
            </button>
          )}
          {mayReact && (
            <button
              class="icon-btn msg-action"
              aria-label="Add reaction"
              title="Add reaction"
              aria-expanded={picking ? 'true' : 'false'}
              onClick={() => setPicking(!picking)}
            >
              <IconSmile />
            </button>
          )}
          {mine && !editing && (
            <button class="icon-btn msg-action" aria-label="Edit message" title="Edit" onClick={() => setEditing(true)}>
              <IconEdit />
            </button>
          )}
          {mayDelete && !confirming && (
            <button class="icon-btn msg-action" aria-label="Delete message" title="Delete" onClick={() => setConfirming(true)}>
              <IconTrash />
            </button>
          )}
          {!mine && !reporting && (
            <button class="icon-btn msg-action" aria-label="Report message" title="Report" onClick={() => setReporting('open')}>
              <IconFlag />
            </button>
          )}
        </div>
      </div>
      {picking && mayReact && <ReactionPicker m={m} onClose={() => setPicking(false)} />}
      {!!m.reactions?.length && <Reactions m={m} disabled={!mayReact} />}
      {history && <EditHistory history={history} />}
      {!props.inReplies && !!m.replyCount && <ThreadSummary m={m} />}
      {!props.inReplies && m.parentMessageId && (
        <button class="link in-thread" onClick={() => chat.openReplies(m.parentMessageId!)}>
          Replied in a thread
        </button>
      )}
      {!!props.readerIds?.length && <Readers ids={props.readerIds} />}
      {reporting === 'open' && (
        <ReportForm what="Report this message" send={(reason) => chat.reportMessage(m, reason)} onDone={(sent) => setReporting(sent ? 'sent' : null)} />
      )}
      {reporting === 'sent' && (
        <p class="hint" role="status">
          Reported to the server's administrators.
        </p>
      )}
      {confirming && (
        <div class="confirm" role="group" aria-label="Confirm delete">
          <span>{mine ? 'Delete this message for everyone?' : `Delete ${author}'s message as a moderator? Everyone sees it was deleted by a moderator.`}</span>
          <button
            class="danger"
            disabled={deleting}
            onClick={async () => {
              setDeleting(true);
              await chat.deleteMessage(m);
              setDeleting(false);
              setConfirming(false);
            }}
          >
            {deleting ? 'Deleting…' : 'Delete'}
          </button>
          <button onClick={() => setConfirming(false)}>Cancel</button>
        </div>
      )}
    </li>
  );
}

/** The text, with the members it mentions marked. */
function MessageText(props: { m: Message }) {
  const chat = useChat();
  const { m } = props;
  const mentioned = (m.mentions ?? []).flatMap((id) => chat.state.users.get(id) ?? []);
  const spans = mentioned.length ? findMentions(m.content, mentioned) : [];
  if (!spans.length) return <>{m.content}</>;
  const parts: preact.ComponentChild[] = [];
  let at = 0;
  for (const s of spans) {
    parts.push(m.content.slice(at, s.start));
    parts.push(
      <span key={s.start} class={`mention ${s.userId === chat.state.userId ? 'mention-me' : ''}`}>
        {m.content.slice(s.start, s.end)}
      </span>,
    );
    at = s.end;
  }
  parts.push(m.content.slice(at));
  return <>{parts}</>;
}

/** ✓ sent, ✓✓ read by every other member. */
function Ticks(props: { readByIds: string[]; otherCount: number }) {
  const chat = useChat();
  const all = props.otherCount > 0 && props.readByIds.length >= props.otherCount;
  const names = props.readByIds.map((id) => chat.userName(id)).join(', ');
  const label = all ? (props.otherCount === 1 ? 'read' : 'read by everyone') : props.readByIds.length ? `read by ${names}` : 'sent';
  return (
    <>
      <span
        class={`tick ${all ? 'read' : ''}`}
        data-receipt={all ? 'read' : props.readByIds.length ? 'some' : 'sent'}
        title={names ? `Read by ${names}` : 'Sent'}
        aria-hidden="true"
      >
        {props.readByIds.length ? '✓✓' : '✓'}
      </span>
      <span class="sr-only">, {label}</span>
    </>
  );
}

/** The avatars of the members who have read up to here. */
function Readers(props: { ids: string[] }) {
  const chat = useChat();
  const names = props.ids.map((id) => chat.userName(id));
  return (
    <div class="readers" role="img" aria-label={`Read by ${names.join(', ')}`} title={`Read by ${names.join(', ')}`}>
      {props.ids.map((id) => (
        <Avatar key={id} name={displayName(chat.state.users.get(id), '?')} seed={id} size="xs" />
      ))}
    </div>
  );
}

/** Reaction counts; each toggles our own reaction with that key. */
function Reactions(props: { m: Message; disabled: boolean }) {
  const chat = useChat();
  return (
    <div class="reactions" role="group" aria-label="Reactions">
      {props.m.reactions!.map((r) => {
        const who = r.userIds.map((id) => (id === chat.state.userId ? 'you' : chat.userName(id))).join(', ');
        return (
          <button
            key={r.key}
            class={`reaction ${r.reactedByMe ? 'mine' : ''}`}
            aria-pressed={r.reactedByMe ? 'true' : 'false'}
            aria-label={`${r.key} ${r.count}${r.reactedByMe ? ', including you' : ''}`}
            title={who}
            disabled={props.disabled}
            onClick={() => void chat.toggleReaction(props.m, r.key)}
          >
            <span aria-hidden="true">{r.key}</span> <span class="count" aria-hidden="true">{r.count}</span>
          </button>
        );
      })}
    </div>
  );
}

/** A row of reactions to pick from: arrows move, Enter picks, Escape closes. */
function ReactionPicker(props: { m: Message; onClose(): void }) {
  const chat = useChat();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>('button')?.focus();
  }, []);
  const close = () => {
    props.onClose();
    ref.current?.closest('li')?.querySelector<HTMLButtonElement>('[aria-label="Add reaction"]')?.focus();
  };
  return (
    <div
      class="picker"
      role="group"
      aria-label="Pick a reaction"
      ref={ref}
      onKeyDown={(e) => {
        const buttons = [...(ref.current?.querySelectorAll<HTMLButtonElement>('button') ?? [])];
        const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
        if (e.key === 'Escape') {
          e.preventDefault();
          close();
        } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
          e.preventDefault();
          const next = (i + (e.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length;
          buttons[next]?.focus();
        }
      }}
    >
      {pickerKeys.map((k) => {
        const mine = props.m.reactions?.some((r) => r.key === k && r.reactedByMe);
        return (
          <button
            key={k}
            class={mine ? 'mine' : ''}
            aria-label={`React with ${k}`}
            aria-pressed={mine ? 'true' : 'false'}
            onClick={() => {
              void chat.toggleReaction(props.m, k);
              close();
            }}
          >
            {k}
          </button>
        );
      })}
    </div>
  );
}

/** Inline editor of an own message: Enter saves, Shift+Enter a new line, Escape cancels. */
function EditBox(props: { m: Message; onDone(): void }) {
  const chat = useChat();
  const [text, setText] = useState(props.m.content);
  const [saving, setSaving] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const tooLong = utf8Bytes(text) > maxContentBytes;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const save = async () => {
    const content = text.replace(/\s+$/, '');
    if (!content.trim() || tooLong || saving) return;
    if (content === props.m.content) return props.onDone();
    setSaving(true);
    const ok = await chat.editMessage(props.m, content);
    setSaving(false);
    if (ok) props.onDone();
  };
  return (
    <form
      class="edit-box"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label class="sr-only" for={`edit-${props.m.messageId}`}>
        Edit message
      </label>
      <textarea
        id={`edit-${props.m.messageId}`}
        ref={ref}
        rows={2}
        value={text}
        aria-invalid={tooLong ? 'true' : undefined}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            props.onDone();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            void save();
          }
        }}
      />
      {tooLong && <span class="error">This message is too long.</span>}
      <span class="edit-actions">
        <button type="submit" class="primary" disabled={saving || !text.trim() || tooLong}>
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={props.onDone}>
          Cancel
        </button>
      </span>
    </form>
  );
}

function EditHistory(props: { history: MessageEdit[] | 'loading' | string }) {
  const h = props.history;
  if (h === 'loading') return <p class="edits muted">Loading earlier versions…</p>;
  if (typeof h === 'string') return <p class="edits error">{h}</p>;
  return (
    <ol class="edits" aria-label="Earlier versions">
      {h.map((e, i) => (
        <li key={i}>
          <span class="edits-text">{e.content}</span>{' '}
          <time dateTime={e.at} title={`Written ${fullTime(e.at)}, replaced ${fullTime(e.replacedAt)}`}>
            {shortTime(e.at)}
          </time>
        </li>
      ))}
    </ol>
  );
}

/** "3 replies · 2 new", with the latest repliers; opens the thread. */
function ThreadSummary(props: { m: Message }) {
  const chat = useChat();
  const { m } = props;
  const n = m.replyCount ?? 0;
  const unread = m.unreadReplies ?? 0;
  const label = `${n} ${n === 1 ? 'reply' : 'replies'}${unread ? `, ${unread} new` : ''}`;
  return (
    <button class={`thread-summary ${unread ? 'unread' : ''}`} aria-label={`${label}: open thread`} onClick={() => chat.openReplies(m.messageId)}>
      <span class="avatars" aria-hidden="true">
        {(m.replyUserIds ?? []).slice(0, 3).map((id) => (
          <Avatar key={id} name={displayName(chat.state.users.get(id), '?')} seed={id} size="xs" />
        ))}
      </span>
      <span class="replies-count">
        {n} {n === 1 ? 'reply' : 'replies'}
      </span>
      {unread > 0 && <span class="badge">{unread} new</span>}
      {m.lastReplyAt && (
        <time class="muted" dateTime={m.lastReplyAt}>
          {shortTime(m.lastReplyAt)}
        </time>
      )}
    </button>
  );
}

/** An own message not yet confirmed: sending, or failed with Retry and Discard. */
export function PendingItem(props: { p: Pending }) {
  const chat = useChat();
  const { p } = props;
  const failed = p.status === 'failed';
  return (
    <li class={`msg mine ${failed ? 'failed' : 'sending'}`} data-pending={p.status}>
      <div class="msg-row">
        <div class="bubble">
          <span class="sr-only">You: </span>
          <span class="msg-text">{p.content}</span>
          <span class="msg-meta">{failed ? 'Not sent' : 'Sending…'}</span>
        </div>
      </div>
      {failed && (
        <div class="confirm" role="alert">
          <span>Not sent: {p.error}</span>
          <button onClick={() => chat.retrySend(p.clientToken)}>Retry</button>
          <button onClick={() => chat.discardPending(p.clientToken)}>Discard</button>
        </div>
      )}
    </li>
  );
}
