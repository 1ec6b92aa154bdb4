// Search over every conversation of the caller (searchAllMessages), in the
// sidebar: newest hits first, each with its conversation; choosing one opens
// the conversation at that message (or its reply thread).

import { useState } from 'preact/hooks';
import type { MessageHit } from '../api';
import { searchTermNote } from '../chat/search';
import { maxSearchTermBytes } from '../limits';
import { fullTime, shortTime } from '../util';
import { conversationPath, navigate, useChat } from './hooks';
import { conversationTitle } from './common';
import { Highlighted } from './SearchPanel';
import { IconClose } from './icons';

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
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (term.trim()) void chat.searchAll(term);
        }}
      >
        <label for="search-all-input" class="sr-only">
          Search all conversations
        </label>
        <input
          id="search-all-input"
          type="search"
          placeholder="Search all conversations"
          autoFocus
          value={term}
          maxLength={maxSearchTermBytes}
          onInput={(e) => setTerm(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') chat.closeSearchAll();
          }}
        />
        <button type="submit" disabled={!term.trim() || s.loading}>
          Search
        </button>
        <button type="button" class="icon-btn" aria-label="Close search" onClick={() => chat.closeSearchAll()}>
          <IconClose />
        </button>
      </form>
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
