import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../api';
import type { Thread } from '../chat';
import { readBy, readersBySeq } from '../chat/receipts';
import { activeTypists, typingText } from '../chat/typing';
import { dayKey, dayLabel } from '../util';
import { pagePath } from '../base';
import { linkClick, useChat, useNow } from './hooks';
import { conversationTitle, others, presenceText } from './common';
import { Composer } from './Composer';
import { MessageItem, PendingItem } from './MessageItem';
import { RepliesPanel } from './RepliesPanel';
import { dropInto, useTray } from './Attachments';
import { SearchPanel } from './SearchPanel';
import { IconBack, IconDown, IconSearch, IconUsers } from './icons';
import { MembersDialog } from './MembersDialog';
import { atLeast, composerBlock } from '../chat/members';

/** Within this many px of the bottom counts as "at the bottom". */
const stickPx = 80;
/** Start loading older messages this close to the top. */
const olderPx = 200;

export function MessagePane(props: { conversationId: string }) {
  const chat = useChat();
  const now = useNow(30_000);
  const s = chat.state;
  const t = s.thread && s.thread.conversationId === props.conversationId ? s.thread : null;
  const conv = s.conversations.get(props.conversationId);
  const title = conversationTitle(chat, conv);
  const tray = useTray(props.conversationId);
  const [membersOpen, setMembersOpen] = useState(false);

  if (s.openError) {
    return (
      <section class="thread" aria-label="Conversation">
        <ThreadHeader title="Conversation" subtitle="" />
        <div class="thread-message" role="alert">
          {s.openError}
        </div>
      </section>
    );
  }

  const o = conv ? others(chat, conv) : [];
  let subtitle = '';
  if (o.length === 1) subtitle = presenceText(s.users.get(o[0]), now);
  else if (o.length > 1) {
    const online = o.filter((id) => s.users.get(id)?.isOnline).length;
    subtitle = `${o.length + 1} members${online ? `, ${online} online` : ''}`;
  }

  const blocked = conv ? composerBlock(conv, s.mutedUntil, now) : null;
  const slow = conv?.settings && !atLeast(conv.myRole, 'ADMIN') ? conv.settings.slowModeSeconds : 0;

  return (
    <section
      class="thread"
      aria-label={`Conversation: ${title}`}
      {...dropInto(tray, !!t && !blocked)}
    >
      <ThreadHeader
        title={title}
        subtitle={subtitle}
        searchOpen={!!s.search}
        onSearch={() => (s.search ? chat.closeSearch() : chat.openSearch())}
        onMembers={conv ? () => setMembersOpen(true) : undefined}
      />
      {membersOpen && <MembersDialog conversationId={props.conversationId} onClose={() => setMembersOpen(false)} />}
      <div class={`thread-body ${s.replies ? 'with-replies' : ''}`}>
        <div class="thread-main">
          {s.search && <SearchPanel />}
          {t ? <MessageList thread={t} /> : <div class="messages" />}
          <TypingLine />
          {blocked ? (
            <p class="composer-blocked" role="status">
              {blocked}
            </p>
          ) : (
            <>
              {slow > 0 && <p class="slow-mode hint">Slow mode: one message every {slow} s.</p>}
              <Composer conversationId={props.conversationId} disabled={!t || t.loading} />
            </>
          )}
        </div>
        {s.replies && s.replies.conversationId === props.conversationId && <RepliesPanel replies={s.replies} />}
      </div>
    </section>
  );
}

/** "Bob is typing…", announced politely; keeps its height so nothing jumps. */
export function TypingLine() {
  const chat = useChat();
  const ids = activeTypists(chat.state.typists, Date.now(), chat.state.userId);
  const text = typingText(ids.map((id) => chat.userName(id)));
  return (
    <p class="typing" aria-live="polite">
      {text}
    </p>
  );
}

function ThreadHeader(props: { title: string; subtitle: string; searchOpen?: boolean; onSearch?(): void; onMembers?(): void }) {
  return (
    <header class="thread-head">
      <a class="icon-btn back" href={pagePath('/')} aria-label="Back to conversations" onClick={(e) => linkClick(e, '/')}>
        <IconBack />
      </a>
      <div class="thread-title">
        <h2>{props.title}</h2>
        {props.subtitle && (
          <p class={`thread-sub ${props.subtitle === 'online' ? 'is-online' : ''}`} aria-live="polite">
            {props.subtitle === 'online' && <span class="dot dot-on inline" aria-hidden="true" />}
            {props.subtitle}
          </p>
        )}
      </div>
      {props.onSearch && (
        <button
          class={`icon-btn ${props.searchOpen ? 'active' : ''}`}
          aria-label="Search in this conversation"
          aria-expanded={props.searchOpen ? 'true' : 'false'}
          title="Search"
          onClick={props.onSearch}
        >
          <IconSearch />
        </button>
      )}
      {props.onMembers && (
        <button class="icon-btn" aria-label="Members" title="Members" onClick={props.onMembers}>
          <IconUsers />
        </button>
      )}
    </header>
  );
}

function MessageList(props: { thread: Thread }) {
  const chat = useChat();
  const t = props.thread;
  const me = chat.state.userId;
  const scroller = useRef<HTMLDivElement>(null);
  // Where we were, measured from the bottom, so prepending older messages
  // leaves the view where it was.
  const fromBottom = useRef(0);
  const atBottom = useRef(true);
  const prev = useRef({ first: -1, last: -1, pending: 0 });
  const [newBelow, setNewBelow] = useState(false);

  const first = t.messages.length ? t.messages[0].seq : -1;
  const lastMsg = t.messages.length ? t.messages[t.messages.length - 1] : null;
  const last = lastMsg ? lastMsg.seq : -1;

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    fromBottom.current = el.scrollHeight - el.scrollTop;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < stickPx;
    if (atBottom.current && newBelow) setNewBelow(false);
    if (el.scrollTop < olderPx && t.nextToken && !t.loadingOlder && !t.olderError) void chat.loadOlder();
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const p = prev.current;
    const grewAtTop = p.first !== -1 && first < p.first;
    const grewAtBottom = last > p.last || t.pending.length > p.pending;
    if (p.first === -1 && first !== -1) {
      el.scrollTop = el.scrollHeight; // first page: start at the newest
      atBottom.current = true;
    } else if (grewAtTop && !grewAtBottom) {
      el.scrollTop = el.scrollHeight - fromBottom.current;
    } else if (grewAtBottom) {
      const mine = t.pending.length > p.pending || lastMsg?.userId === me;
      if (atBottom.current || mine) {
        el.scrollTop = el.scrollHeight;
        setNewBelow(false);
      } else if (last > p.last) setNewBelow(true);
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    fromBottom.current = el.scrollHeight - el.scrollTop;
    prev.current = { first, last, pending: t.pending.length };
    // Not enough history to scroll? Fetch more so there is something above.
    if (!t.loading && t.nextToken && !t.loadingOlder && !t.olderError && el.scrollHeight <= el.clientHeight + olderPx) {
      void chat.loadOlder();
    }
  });

  // Jump to a search hit.
  useEffect(() => {
    if (t.highlightSeq == null) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-seq="${t.highlightSeq}"]`);
    if (el) {
      el.scrollIntoView({ block: 'center' });
      el.focus({ preventScroll: true });
    }
    const timer = setTimeout(() => {
      t.highlightSeq = null;
      chat.changed();
    }, 2500);
    return () => clearTimeout(timer);
  }, [t.highlightSeq]);

  const conv = chat.state.conversations.get(t.conversationId);
  const othersIds = conv ? others(chat, conv) : [];
  const readers = readersBySeq(t.messages, chat.state.readMarks, me);
  const pending = t.pending.filter((p) => !p.parentMessageId);
  const items: preact.JSX.Element[] = [];
  let prevDay = '';
  let prevMsg: Message | null = null;
  for (const m of t.messages) {
    const day = dayKey(m.createdAt);
    if (day !== prevDay) {
      items.push(
        <li class="day" key={`d${day}`} role="separator">
          <span>{dayLabel(m.createdAt)}</span>
        </li>,
      );
      prevMsg = null;
    }
    prevDay = day;
    const grouped =
      !!prevMsg && prevMsg.userId === m.userId && new Date(m.createdAt).getTime() - new Date(prevMsg.createdAt).getTime() < 5 * 60_000;
    const mine = m.userId === me;
    items.push(
      <MessageItem
        key={m.messageId}
        m={m}
        mine={mine}
        grouped={grouped}
        highlight={t.highlightSeq === m.seq}
        readByIds={mine ? readBy(m.seq, chat.state.readMarks, othersIds) : undefined}
        otherCount={othersIds.length}
        readerIds={readers.get(m.seq)}
      />,
    );
    prevMsg = m;
  }

  return (
    <div class="messages-wrap">
      <div class="messages" ref={scroller} onScroll={onScroll} tabIndex={0} role="region" aria-label="Messages">
        <div class="history-edge">
          {t.loading ? (
            <p class="muted">Loading messages…</p>
          ) : t.error ? (
            <p class="inline-error" role="alert">
              Couldn't load messages: {t.error}{' '}
              <button class="link" onClick={() => chat.retryThread()}>
                Retry
              </button>
            </p>
          ) : t.olderError ? (
            <p class="inline-error" role="alert">
              Couldn't load older messages: {t.olderError}{' '}
              <button class="link" onClick={() => void chat.loadOlder()}>
                Retry
              </button>
            </p>
          ) : t.nextToken ? (
            <button class="link" onClick={() => void chat.loadOlder()} disabled={t.loadingOlder}>
              {t.loadingOlder ? 'Loading older messages…' : 'Load older messages'}
            </button>
          ) : t.messages.length ? (
            <p class="muted">This is the beginning of the conversation.</p>
          ) : !pending.length ? (
            <p class="muted">No messages yet. Say hello!</p>
          ) : null}
        </div>
        <ol class="message-list" role="log" aria-live="polite" aria-relevant="additions" aria-label="Message history">
          {items}
          {pending.map((p) => (
            <PendingItem key={p.clientToken} p={p} />
          ))}
        </ol>
      </div>
      {newBelow && (
        <button
          class="new-below"
          onClick={() => {
            const el = scroller.current;
            if (el) el.scrollTop = el.scrollHeight;
            setNewBelow(false);
          }}
        >
          New messages <IconDown />
        </button>
      )}
    </div>
  );
}
