import { pagePath } from '../base';
import { conversationPath, linkClick, useChat, useNow } from './hooks';
import { Avatar, conversationTitle, others } from './common';
import { fullTime, shortTime } from '../util';

export function ConversationList(props: { openId: string | null; onNew(): void }) {
  const chat = useChat();
  useNow(60_000); // keeps "14:05" / "Tue" labels current
  const s = chat.state;
  const list = chat.sortedConversations();

  return (
    <nav class="conv-nav" aria-label="Conversation list">
      {s.convsError && (
        <div class="inline-error" role="alert">
          <span>Couldn't load conversations: {s.convsError}</span>
          <button class="link" onClick={() => void chat.loadConversations()}>
            Retry
          </button>
        </div>
      )}
      {!list.length && !s.convsLoading && !s.convsError && (
        <div class="conv-empty">
          <p>No conversations yet.</p>
          <button class="link" onClick={props.onNew}>
            Start one
          </button>
        </div>
      )}
      {!list.length && s.convsLoading && <p class="muted pad">Loading conversations…</p>}
      <ul class="conv-list">
        {list.map((c) => {
          const title = conversationTitle(chat, c);
          const o = others(chat, c);
          const single = o.length === 1 ? s.users.get(o[0]) : undefined;
          const unread = c.conversationId === props.openId ? 0 : c.unreadCount;
          const mentioned = c.conversationId === props.openId ? 0 : c.unreadMentions ?? 0;
          const when = c.lastMessageAt || c.createdAt;
          const selected = c.conversationId === props.openId;
          const label = [
            title,
            single ? (single.isOnline ? 'online' : 'offline') : '',
            unread ? `${unread} unread` : '',
            mentioned ? `${mentioned} ${mentioned === 1 ? 'mention' : 'mentions'} of you` : '',
            c.lastMessage ? `last message: ${c.lastMessage}` : 'no messages yet',
            fullTime(when),
          ]
            .filter(Boolean)
            .join(', ');
          return (
            <li key={c.conversationId}>
              <a
                class={`conv ${selected ? 'selected' : ''} ${unread ? 'unread' : ''}`}
                href={pagePath(conversationPath(c.conversationId))}
                aria-current={selected ? 'page' : undefined}
                aria-label={label}
                data-conversation-id={c.conversationId}
                onClick={(e) => linkClick(e, conversationPath(c.conversationId))}
              >
                <Avatar name={title} seed={c.conversationId} online={o.length === 1 ? !!single?.isOnline : undefined} />
                <span class="conv-main">
                  <span class="conv-top">
                    <span class="conv-name">{title}</span>
                    <time class="conv-time" dateTime={when} title={fullTime(when)}>
                      {shortTime(when)}
                    </time>
                  </span>
                  <span class="conv-bottom">
                    <span class="conv-preview">{c.lastMessage ?? <em>No messages yet</em>}</span>
                    {mentioned > 0 && (
                      <span class="badge mention-badge" title={`${mentioned} unread ${mentioned === 1 ? 'mention' : 'mentions'}`}>
                        @
                      </span>
                    )}
                    {unread > 0 && <span class="badge">{unread > 99 ? '99+' : unread}</span>}
                  </span>
                </span>
              </a>
            </li>
          );
        })}
      </ul>
      {s.convsNextToken && (
        <div class="pad center">
          <button class="link" disabled={s.convsLoading} onClick={() => void chat.loadConversations(true)}>
            {s.convsLoading ? 'Loading…' : 'Show more conversations'}
          </button>
        </div>
      )}
    </nav>
  );
}
