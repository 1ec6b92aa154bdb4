import { useEffect, useRef, useState } from 'preact/hooks';
import { useChat } from './hooks';
import { IconClose } from './icons';
import { DigestToggle } from './DigestToggle';

/** The caller's privacy choices: whether the other members see how far
 *  they have read (their own unread counts work either way), and whether
 *  they get e-mail digests (DigestToggle). */
export function SettingsDialog(props: { onClose(): void }) {
  const chat = useChat();
  const ref = useRef<HTMLDialogElement>(null);
  const [saving, setSaving] = useState(false);
  // What the box shows while a change is being saved (then the server's answer).
  const [asked, setAsked] = useState<boolean | null>(null);
  const share = asked ?? !chat.state.me?.hideReadReceipts;

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);

  return (
    <dialog ref={ref} class="dialog" aria-labelledby="settings-title" onClose={props.onClose}>
      <header class="dialog-head">
        <h2 id="settings-title">Settings</h2>
        <button type="button" class="icon-btn" aria-label="Close" onClick={() => ref.current?.close()}>
          <IconClose />
        </button>
      </header>
      <label class="check">
        <input
          type="checkbox"
          checked={share}
          disabled={saving || !chat.state.me}
          aria-describedby="receipts-help"
          onChange={async (e) => {
            const want = e.currentTarget.checked;
            setAsked(want);
            setSaving(true);
            await chat.setHideReadReceipts(!want);
            setSaving(false);
            setAsked(null);
          }}
        />
        <span>Share read receipts</span>
      </label>
      <small id="receipts-help" class="hint">
        When off, the others don't see when you have read their messages. Your unread counts still work.
      </small>
      <DigestToggle />
      <div class="dialog-actions">
        <button type="button" class="primary" onClick={() => ref.current?.close()}>
          Done
        </button>
      </div>
    </dialog>
  );
}
