import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../api';
import { describeError } from '../api';
import { maxConversationNameBytes, maxParticipants, utf8Bytes } from '../limits';
import { conversationPath, navigate, useChat } from './hooks';
import { Avatar, displayName } from './common';
import { IconClose } from './icons';

/** Pick people by exact username or email (there is no directory), name the
 *  conversation if you like, create it and open it. */
export function NewConversationDialog(props: { onClose(): void }) {
  const chat = useChat();
  const ref = useRef<HTMLDialogElement>(null);
  const [query, setQuery] = useState('');
  const [picked, setPicked] = useState<User[]>([]);
  const [name, setName] = useState('');
  const [findError, setFindError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [finding, setFinding] = useState(false);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);

  const nameTooLong = utf8Bytes(name.trim()) > maxConversationNameBytes;
  // the creator is a participant too
  const full = picked.length + 1 >= maxParticipants;

  const add = async () => {
    const q = query.trim();
    if (!q || finding) return;
    if (full) {
      setFindError(`A conversation has at most ${maxParticipants} people, you included.`);
      return;
    }
    setFindError(null);
    setFinding(true);
    try {
      const u = await chat.findUser(q);
      if (!u) setFindError(`No one has the username or email “${q}”.`);
      else if (u.userId === chat.state.userId) setFindError("That's you — you're in every conversation you create.");
      else if (picked.some((p) => p.userId === u.userId)) setFindError(`${displayName(u)} is already added.`);
      else {
        setPicked([...picked, u]);
        setQuery('');
      }
    } catch (e) {
      setFindError(describeError(e));
    } finally {
      setFinding(false);
    }
  };

  const create = async (e: Event) => {
    e.preventDefault();
    if (!picked.length || nameTooLong || creating) return;
    setCreating(true);
    setError(null);
    try {
      const c = await chat.createConversation(
        name,
        picked.map((u) => u.userId),
      );
      props.onClose();
      navigate(conversationPath(c.conversationId));
    } catch (err) {
      setError(describeError(err));
      setCreating(false);
    }
  };

  return (
    <dialog ref={ref} class="dialog" aria-labelledby="new-conv-title" onClose={props.onClose}>
      <form onSubmit={create}>
        <header class="dialog-head">
          <h2 id="new-conv-title">New conversation</h2>
          <button type="button" class="icon-btn" aria-label="Close" onClick={() => ref.current?.close()}>
            <IconClose />
          </button>
        </header>
        <label class="field" for="find-user">
          <span>Add people</span>
        </label>
        <div class="row">
          <input
            id="find-user"
            placeholder="Exact username or email"
            autocomplete="off"
            autocapitalize="off"
            spellcheck={false}
            value={query}
            aria-describedby="find-user-help"
            aria-invalid={findError ? 'true' : undefined}
            onInput={(e) => setQuery(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                void add();
              }
            }}
          />
          <button type="button" onClick={() => void add()} disabled={!query.trim() || finding}>
            {finding ? 'Finding…' : 'Add'}
          </button>
        </div>
        <small id="find-user-help" class="hint">
          People are found by their exact username or email address.
        </small>
        {findError && (
          <p class="error" role="alert">
            {findError}
          </p>
        )}
        {picked.length > 0 && (
          <ul class="chips" aria-label="Participants">
            {picked.map((u) => (
              <li class="chip" key={u.userId}>
                <Avatar name={displayName(u)} seed={u.userId} size="sm" />
                <span>{displayName(u)}</span>
                <button
                  type="button"
                  class="icon-btn small"
                  aria-label={`Remove ${displayName(u)}`}
                  onClick={() => setPicked(picked.filter((p) => p.userId !== u.userId))}
                >
                  <IconClose />
                </button>
              </li>
            ))}
          </ul>
        )}
        <label class="field">
          <span>
            Name <small>(optional)</small>
          </span>
          <input
            value={name}
            aria-invalid={nameTooLong ? 'true' : undefined}
            aria-describedby={nameTooLong ? 'conv-name-error' : undefined}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        {nameTooLong && (
          <p id="conv-name-error" class="error" role="alert">
            The name is too long (at most {maxConversationNameBytes} bytes).
          </p>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" onClick={() => ref.current?.close()}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={!picked.length || nameTooLong || creating}>
            {creating ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
