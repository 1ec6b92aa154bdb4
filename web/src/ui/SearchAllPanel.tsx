// Search over every conversation of the caller (searchAllMessages), in the
// sidebar: newest hits first, each with its conversation; choosing one opens
// the conversation at that message (or its reply thread).

import { useState } from 'preact/hooks';
import type { MessageHit } from '../api';
import { searchTermNote } from '../chat/search';
import { fullTime, shortTime } from '../util';
import { conversationPath, navigate, useChat } from './hooks';
import { conversationTitle } from './common';
import { Highlighted, SearchForm } from './SearchPanel';

export function SearchAllPanel() {
  const chat = useChat();
  const s = chat.state.searchAll!;
  const [term, setTerm] = useState(s.term);
  const note = s.results && searchTermNote(s.term);

  const open = (h: MessageHit) => {
    chat.showHit(h.message);
    navigate(conversationPath(h.message.conversationId));
  };

  return (
    <div class="search search-all" role="search" aria-label="Search all conversations">
      <SearchForm
        id="search-all-input"
        label="Search all conversations"
        placeholder="Search all conversations"
        term={term}
        setTerm={setTerm}
        loading={s.loading}
        onSearch={(t) => void chat.searchAll(t)}
        onClose={() => chat.closeSearchAll()}
      />
      <div class="search-body" aria-live="polite">
        {s.loading && !s.results && <p class="muted">Searching…</p>}
        {s.error && (
          <p class="error" role="alert">
            Search failed: {s.error}
          </p>
        )}
        {note && <p class="muted">{note}</p>}
        {s.results &&
          (s.results.length ? (
            <ul class="search-results" aria-label={`${s.results.length}${s.nextToken ? '+' : ''} results`}>
              {s.results.map((h) => (
                <li key={h.message.messageId}>
                  <button class="search-hit" onClick={() => open(h)}>
                    <span class="search-hit-conv">
                      {conversationTitle(chat, chat.state.conversations.get(h.conversation.conversationId) ?? h.conversation)}
                    </span>
                    <span class="search-hit-top">
                      <strong>{h.message.userId === chat.state.userId ? 'You' : chat.userName(h.message.userId)}</strong>
                      <time dateTime={h.message.createdAt} title={fullTime(h.message.createdAt)}>
                        {shortTime(h.message.createdAt)}
                      </time>
                    </span>
                    <span class="search-hit-text">
                      <Highlighted text={h.message.content} term={s.term} />
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">No messages match “{s.term}”.</p>
          ))}
        {s.nextToken && (
          <button class="link" disabled={s.loading} onClick={() => void chat.searchAll(s.term, true)}>
            {s.loading ? 'Searching…' : 'More results'}
          </button>
        )}
      </div>
    </div>
  );
}
