import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../api';
import { completeMention, mentionCandidates, mentionQuery, mentionsIn } from '../chat/mentions';
import { maxContentBytes, utf8Bytes } from '../limits';
import { useChat } from './hooks';
import { draftKey } from '../chat/attachments';
import { AttachButton, TrayView, filesOf, useTray } from './Attachments';
import { displayName } from './common';
import { IconSend } from './icons';

const drafts = new Map<string, string>();

/** Enter sends, Shift+Enter starts a new line. Drafts (text and files)
 *  survive switching conversations. "@" followed by a name suggests
 *  members: arrows choose, Enter or Tab completes, Escape closes. With
 *  parentMessageId it replies in that thread, with a draft of its own. */
export function Composer(props: { conversationId: string; disabled: boolean; parentMessageId?: string }) {
  const chat = useChat();
  const key = draftKey(props);
  const id = props.parentMessageId ? 'reply-input' : 'composer-input';
  const [text, setText] = useState(drafts.get(key) ?? '');
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [alsoHere, setAlsoHere] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const tooLong = utf8Bytes(text) > maxContentBytes;
  const tray = useTray(props.conversationId, props.parentMessageId);
  const [sendError, setSendError] = useState('');
  const files = tray.ready.length > 0;
  const canSend = (!!text.trim() || files) && !tooLong && !props.disabled && !tray.busy;

  const q = mentionQuery(text, caret);
  const candidates: User[] =
    q && dismissed !== q.start
      ? mentionCandidates(
          chat.members(props.conversationId).filter((u) => u.userId !== chat.state.userId),
          q.query,
        )
      : [];
  const open = candidates.length > 0;
  const chosen = open ? candidates[Math.min(active, candidates.length - 1)] : null;

  useEffect(() => {
    // Focus on open, but not on touch screens, where it would pop up the keyboard.
    if (!matchMedia('(pointer: coarse)').matches) ref.current?.focus();
  }, [key]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  const update = (v: string, at = v.length) => {
    setText(v);
    setCaret(at);
    if (v) drafts.set(key, v);
    else drafts.delete(key);
    chat.draftChanged(v);
  };

  const complete = (u: User) => {
    if (!q) return;
    const next = completeMention(text, q.start, caret, u.username);
    update(next.text, next.caret);
    setActive(0);
    requestAnimationFrame(() => ref.current?.setSelectionRange(next.caret, next.caret));
  };

  const send = () => {
    if (!canSend) return;
    const content = text.replace(/\s+$/, '');
    if (files) {
      setSendError('');
      tray.send(content, alsoHere, mentionsIn(content, chat.members(props.conversationId))).then(
        () => update(''),
        (e) => setSendError(e instanceof Error ? e.message : String(e)),
      );
    } else {
      chat.send(content, props.parentMessageId, alsoHere);
      update('');
    }
    ref.current?.focus();
  };

  const listId = `${id}-mentions`;
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <TrayView tray={tray} />
      {sendError && (
        <p class="inline-error" role="alert">
          {sendError}
        </p>
      )}
      <AttachButton tray={tray} inputId={props.parentMessageId ? 'reply-attach-input' : 'attach-input'} disabled={props.disabled} />
      <label for={id} class="sr-only">
        {props.parentMessageId ? 'Reply' : 'Message'}
      </label>
      {open && (
        <ul class="mention-list" id={listId} role="listbox" aria-label="Members to mention">
          {candidates.map((u, i) => (
            <li
              key={u.userId}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={u === chosen ? 'true' : 'false'}
              class={u === chosen ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault(); // keep the focus in the textarea
                complete(u);
              }}
            >
              <strong>{displayName(u)}</strong> <span class="muted">@{u.username}</span>
            </li>
          ))}
        </ul>
      )}
      <textarea
        id={id}
        ref={ref}
        rows={1}
        placeholder={props.parentMessageId ? 'Reply…' : 'Write a message…'}
        value={text}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={open ? 'true' : 'false'}
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open && chosen ? `${listId}-${candidates.indexOf(chosen)}` : undefined}
        aria-describedby={`${id}-help`}
        aria-invalid={tooLong ? 'true' : undefined}
        onInput={(e) => {
          setDismissed(null);
          setActive(0);
          update(e.currentTarget.value, e.currentTarget.selectionStart ?? e.currentTarget.value.length);
        }}
        onKeyUp={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
        onClick={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
        onBlur={() => chat.draftChanged('')}
        onPaste={(e) => {
          const pasted = filesOf(e.clipboardData);
          if (pasted.length) {
            e.preventDefault();
            tray.add(pasted);
          }
        }}
        onKeyDown={(e) => {
          // keyCode 229: an input method is composing (e.g. Japanese), Enter confirms it
          const composing = e.isComposing || e.keyCode === 229;
          if (open && chosen && !composing) {
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              e.preventDefault();
              const n = candidates.length;
              setActive((candidates.indexOf(chosen) + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
              return;
            }
            if (e.key === 'Enter' || e.key === 'Tab') {
              e.preventDefault();
              complete(chosen);
              return;
            }
            if (e.key === 'Escape') {
              e.preventDefault();
              setDismissed(q!.start);
              return;
            }
          }
          if (e.key === 'Enter' && !e.shiftKey && !composing) {
            e.preventDefault();
            send();
          }
        }}
      />
      {props.parentMessageId && (
        <label class="also-here">
          <input type="checkbox" checked={alsoHere} onChange={(e) => setAlsoHere(e.currentTarget.checked)} /> Also send to the conversation
        </label>
      )}
      <span id={`${id}-help`} class={tooLong ? 'composer-help error' : 'sr-only'}>
        {tooLong ? 'This message is too long to send.' : 'Enter sends; Shift+Enter starts a new line; @ mentions a member.'}
      </span>
      <button
        type="submit"
        class="send"
        aria-label={props.parentMessageId ? 'Send reply' : 'Send message'}
        title="Send"
        disabled={!canSend}
      >
        <IconSend />
      </button>
    </form>
  );
}
