import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../api';
import type { Pending, Thread } from '../chat';
import { clockTime, dayKey, dayLabel, fullTime } from '../util';
import { linkClick, useChat, useNow } from './hooks';
import { conversationTitle, others, presenceText, displayName } from './common';
import { Composer } from './Composer';
import { MessageAttachments, filesOf, useTray } from './Attachments';
import { SearchPanel } from './SearchPanel';
import { IconBack, IconDown, IconSearch, IconTrash } from './icons';

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

  return (
    <section
      class="thread"
      aria-label={`Conversation: ${title}`}
      onDragOver={(e) => e.dataTransfer?.types.includes('Files') && e.preventDefault()}
      onDrop={(e) => {
        const dropped = filesOf(e.dataTransfer);
        if (dropped.length && t) {
          e.preventDefault();
          tray.add(dropped);
        }
      }}
    >
      <ThreadHeader
        title={title}
        subtitle={subtitle}
        searchOpen={!!s.search}
        onSearch={() => (s.search ? chat.closeSearch() : chat.openSearch())}
      />
      {s.search && <SearchPanel />}
      {t ? <MessageList thread={t} /> : <div class="messages" />}
      <Composer conversationId={props.conversationId} disabled={!t || t.loading} />
    </section>
  );
}

function ThreadHeader(props: { title: string; subtitle: string; searchOpen?: boolean; onSearch?(): void }) {
  return (
    <header class="thread-head">
      <a class="icon-btn back" href="/" aria-label="Back to conversations" onClick={(e) => linkClick(e, '/')}>
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
    items.push(<MessageItem key={m.messageId} m={m} mine={m.userId === me} grouped={grouped} highlight={t.highlightSeq === m.seq} />);
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
          ) : !t.pending.length ? (
            <p class="muted">No messages yet. Say hello!</p>
          ) : null}
        </div>
        <ol class="message-list" role="log" aria-live="polite" aria-relevant="additions" aria-label="Message history">
          {items}
          {t.pending.map((p) => (
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

function MessageItem(props: { m: Message; mine: boolean; grouped: boolean; highlight: boolean }) {
  const chat = useChat();
  const { m, mine } = props;
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const author = mine ? 'You' : displayName(chat.state.users.get(m.userId), chat.userName(m.userId));
  const cls = ['msg', mine ? 'mine' : 'theirs', props.grouped ? 'grouped' : '', props.highlight ? 'highlight' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <li class={cls} data-seq={m.seq} data-message-id={m.messageId} tabIndex={-1}>
      {!mine && !props.grouped && (
        <div class="msg-author" aria-hidden="true">
          {author}
        </div>
      )}
      <div class="msg-row">
        <div class="bubble">
          <span class="sr-only">{author}: </span>
          {m.content && <span class="msg-text">{m.content}</span>}
          <MessageAttachments m={m} />
          <span class="msg-meta">
            <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
              {clockTime(m.createdAt)}
            </time>
            {mine && (
              <>
                <span class="tick" title="Sent" aria-hidden="true">
                  ✓
                </span>
                <span class="sr-only">, sent</span>
              </>
            )}
          </span>
        </div>
        {mine && !confirming && (
          <button class="icon-btn msg-action" aria-label="Delete message" title="Delete" onClick={() => setConfirming(true)}>
            <IconTrash />
          </button>
        )}
      </div>
      {confirming && (
        <div class="confirm" role="group" aria-label="Confirm delete">
          <span>Delete this message for everyone?</span>
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

function PendingItem(props: { p: Pending }) {
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
