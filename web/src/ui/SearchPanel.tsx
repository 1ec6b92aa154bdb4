import { useState } from 'preact/hooks';
import type { Message } from '../api';
import { searchTermNote, searchWords } from '../chat/search';
import { maxSearchTermBytes } from '../limits';
import { shortTime, fullTime } from '../util';
import { useChat } from './hooks';
import { IconClose } from './icons';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The message text with each search word marked. */
export function Highlighted(props: { text: string; term: string }) {
  const words = searchWords(props.term).map(escapeRegExp);
  if (!words.length) return <>{props.text}</>;
  const parts = props.text.split(new RegExp(`(${words.join('|')})`, 'gi'));
  return <>{parts.map((p, i) => (i % 2 ? <mark key={i}>{p}</mark> : p))}</>;
}

/** The row of a search panel: the term (Enter searches, Escape closes),
 *  Search and Close. */
export function SearchForm(props: {
  id: string;
  label: string;
  placeholder: string;
  term: string;
  setTerm: (t: string) => void;
  loading: boolean;
  onSearch: (term: string) => void;
  onClose: () => void;
}) {
  const { term } = props;
  return (
    <form
      class="row"
      onSubmit={(e) => {
        e.preventDefault();
        if (term.trim()) props.onSearch(term);
      }}
    >
      <label for={props.id} class="sr-only">
        {props.label}
      </label>
      <input
        id={props.id}
        type="search"
        placeholder={props.placeholder}
        autoFocus
        value={term}
        maxLength={maxSearchTermBytes}
        onInput={(e) => props.setTerm(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') props.onClose();
        }}
      />
      <button type="submit" disabled={!term.trim() || props.loading}>
        Search
      </button>
      <button type="button" class="icon-btn" aria-label="Close search" onClick={props.onClose}>
        <IconClose />
      </button>
    </form>
  );
}

export function SearchPanel() {
  const chat = useChat();
  const s = chat.state.search!;
  const [term, setTerm] = useState(s.term);

  const open = (m: Message) => void chat.jumpTo(m.seq);
  const note = s.results && searchTermNote(s.term);

  return (
    <div class="search" role="search" aria-label="Search this conversation">
      <SearchForm
        id="search-input"
        label="Search messages"
        placeholder="Search this conversation"
        term={term}
        setTerm={setTerm}
        loading={s.loading}
        onSearch={(t) => void chat.search(t)}
        onClose={() => chat.closeSearch()}
      />
      <div class="search-body" aria-live="polite">
        {s.loading && <p class="muted">Searching…</p>}
        {s.error && (
          <p class="error" role="alert">
            Search failed: {s.error}
          </p>
        )}
        {note && <p class="muted">{note}</p>}
        {s.results &&
          (s.results.length ? (
            <ul class="search-results" aria-label={`${s.results.length} results`}>
              {s.results.map((m) => (
                <li key={m.messageId}>
                  <button class="search-hit" onClick={() => open(m)}>
                    <span class="search-hit-top">
                      <strong>{m.userId === chat.state.userId ? 'You' : chat.userName(m.userId)}</strong>
                      <time dateTime={m.createdAt} title={fullTime(m.createdAt)}>
                        {shortTime(m.createdAt)}
                      </time>
                    </span>
                    <span class="search-hit-text">
                      <Highlighted text={m.content} term={s.term} />
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">No messages match “{s.term}”.</p>
          ))}
      </div>
    </div>
  );
}
