import { useEffect, useRef, useState } from 'preact/hooks';
import { maxContentBytes, utf8Bytes } from '../limits';
import { useChat } from './hooks';
import { IconSend } from './icons';
import { AttachButton, TrayView, filesOf, useTray } from './Attachments';

const drafts = new Map<string, string>();

/** Enter sends, Shift+Enter starts a new line. Drafts survive switching conversations. */
export function Composer(props: { conversationId: string; disabled: boolean }) {
  const chat = useChat();
  const [text, setText] = useState(drafts.get(props.conversationId) ?? '');
  const ref = useRef<HTMLTextAreaElement>(null);
  const tooLong = utf8Bytes(text) > maxContentBytes;
  const tray = useTray(props.conversationId);
  const [sendError, setSendError] = useState('');
  const files = tray.ready.length > 0;
  const canSend = (!!text.trim() || files) && !tooLong && !props.disabled && !tray.busy;

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
    if (!canSend) return;
    const content = text.replace(/\s+$/, '');
    if (files) {
      setSendError('');
      tray.send(content).then(
        () => update(''),
        (e) => setSendError(e instanceof Error ? e.message : String(e)),
      );
    } else {
      chat.send(content);
      update('');
    }
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
      <TrayView tray={tray} />
      {sendError && (
        <p class="inline-error" role="alert">
          {sendError}
        </p>
      )}
      <AttachButton tray={tray} disabled={props.disabled} />
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
        onPaste={(e) => {
          const pasted = filesOf(e.clipboardData);
          if (pasted.length) {
            e.preventDefault();
            tray.add(pasted);
          }
        }}
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
      <button type="submit" class="send" aria-label="Send message" title="Send" disabled={!canSend}>
        <IconSend />
      </button>
    </form>
  );
}
