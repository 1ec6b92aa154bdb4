import { useEffect, useRef, useState } from 'preact/hooks';
import { maxContentBytes, utf8Bytes } from '../limits';
import { useChat } from './hooks';
import { IconSend } from './icons';

const drafts = new Map<string, string>();

/** Enter sends, Shift+Enter starts a new line. Drafts survive switching conversations. */
export function Composer(props: { conversationId: string; disabled: boolean }) {
  const chat = useChat();
  const [text, setText] = useState(drafts.get(props.conversationId) ?? '');
  const ref = useRef<HTMLTextAreaElement>(null);
  const tooLong = utf8Bytes(text) > maxContentBytes;

  useEffect(() => {
    // Focus on open, but not on touch screens, where it would pop up the keyboard.
    if (!matchMedia('(pointer: coarse)').matches) ref.current?.focus();
  }, [props.conversationId]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  const update = (v: string) => {
    setText(v);
    if (v) drafts.set(props.conversationId, v);
    else drafts.delete(props.conversationId);
  };

  const send = () => {
    if (!text.trim() || tooLong || props.disabled) return;
    chat.send(text.replace(/\s+$/, ''));
    update('');
    ref.current?.focus();
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="composer-input" class="sr-only">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={ref}
        rows={1}
        placeholder="Write a message…"
        value={text}
        aria-describedby="composer-help"
        aria-invalid={tooLong ? 'true' : undefined}
        onInput={(e) => update(e.currentTarget.value)}
        onKeyDown={(e) => {
          // keyCode 229: an input method is composing (e.g. Japanese), Enter confirms it
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            send();
          }
        }}
      />
      <span id="composer-help" class={tooLong ? 'composer-help error' : 'sr-only'}>
        {tooLong ? 'This message is too long to send.' : 'Enter sends; Shift+Enter starts a new line.'}
      </span>
      <button type="submit" class="send" aria-label="Send message" title="Send" disabled={!text.trim() || tooLong || props.disabled}>
        <IconSend />
      </button>
    </form>
  );
}
