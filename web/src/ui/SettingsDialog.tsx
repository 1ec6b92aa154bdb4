import { useEffect, useRef, useState } from 'preact/hooks';
import type { AddPolicy } from '../api';
import { useChat } from './hooks';
import { IconClose } from './icons';
import { DigestToggle } from './DigestToggle';
import { displayName } from './common';
import { ErrorLine, useAction } from './Modal';

const policies: { value: AddPolicy; label: string }[] = [
  { value: 'ANYONE', label: 'Anyone' },
  { value: 'CONTACTS', label: 'People who already share a conversation with me' },
  { value: 'INVITATION', label: 'Nobody: always ask me with an invitation' },
];

/** The caller's privacy choices: whether the other members see how far
 *  they have read (their own unread counts work either way), whether they
 *  get e-mail digests (DigestToggle), who may add them to a conversation
 *  without asking, and whom they block. */
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
      <AddPolicyField />
      <BlockedUsers />
      <div class="dialog-actions">
        <button type="button" class="primary" onClick={() => ref.current?.close()}>
          Done
        </button>
      </div>
    </dialog>
  );
}

function AddPolicyField() {
  const chat = useChat();
  const a = useAction();
  const [asked, setAsked] = useState<AddPolicy | null>(null);
  const current = asked ?? chat.state.me?.addPolicy ?? 'ANYONE';
  return (
    <fieldset class="radios" aria-describedby="policy-help">
      <legend>Who may add me to a conversation</legend>
      {policies.map((p) => (
        <label class="check" key={p.value}>
          <input
            type="radio"
            name="add-policy"
            value={p.value}
            checked={current === p.value}
            disabled={a.busy || !chat.state.me}
            onChange={() => {
              setAsked(p.value);
              void a.run(() => chat.setAddPolicy(p.value)).then(() => setAsked(null));
            }}
          />
          <span>{p.label}</span>
        </label>
      ))}
      <small id="policy-help" class="hint">
        Anyone else sends you an invitation, which you accept or decline.
      </small>
      <ErrorLine error={a.error} />
    </fieldset>
  );
}

function BlockedUsers() {
  const chat = useChat();
  const load = useAction();
  const a = useAction();
  useEffect(() => void load.run(() => chat.loadBlocked()), [chat]);
  const list = chat.state.blocked;
  return (
    <section class="blocked" aria-labelledby="blocked-title">
      <h3 id="blocked-title">Blocked users</h3>
      {list && !list.length && <p class="muted">You block no one.</p>}
      {list && list.length > 0 && (
        <ul class="blocked-list">
          {list.map((u) => (
            <li key={u.userId}>
              <span>
                {displayName(u)} <span class="muted">@{u.username}</span>
              </span>
              <button type="button" disabled={a.busy} aria-label={`Unblock ${displayName(u)}`} onClick={() => void a.run(() => chat.setBlocked(u.userId, false))}>
                Unblock
              </button>
            </li>
          ))}
        </ul>
      )}
      <ErrorLine error={load.error ?? a.error} />
    </section>
  );
}
