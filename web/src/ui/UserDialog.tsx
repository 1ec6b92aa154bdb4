// A user's card, opened from a message's author or a member row: a direct
// message, block or unblock, and a report to the server's admins.

import { useState } from 'preact/hooks';
import type { User } from '../api';
import { conversationPath, navigate, useChat, useNow } from './hooks';
import { Avatar, displayName, presenceText } from './common';
import { ErrorLine, Modal, ReasonField, reasonOk, useAction } from './Modal';

export function UserDialog(props: { userId: string; onClose(): void }) {
  const chat = useChat();
  const now = useNow();
  const u = chat.state.users.get(props.userId);
  return (
    <Modal title={displayName(u, 'Someone')} onClose={props.onClose}>
      <div class="user-card">
        <Avatar name={displayName(u, '?')} seed={props.userId} online={u?.isOnline ?? false} />
        <div>
          {u && <div class="me-handle">@{u.username}</div>}
          <div class="muted">{presenceText(u, now)}</div>
        </div>
      </div>
      {props.userId !== chat.state.userId && <UserActions user={u} userId={props.userId} onDone={props.onClose} />}
    </Modal>
  );
}

/** What one may do about another user: message them directly, block or
 *  unblock them, report them. */
export function UserActions(props: { userId: string; user: User | undefined; onDone?(): void }) {
  const chat = useChat();
  const a = useAction();
  const [reporting, setReporting] = useState(false);
  const [reported, setReported] = useState(false);
  const blocked = chat.isBlocked(props.userId);
  const name = displayName(props.user, 'this user');
  return (
    <div class="user-actions">
      <div class="row wrap" role="group" aria-label={`Actions for ${name}`}>
        <button
          type="button"
          disabled={a.busy || blocked}
          onClick={() =>
            void a.run(async () => {
              const c = await chat.directConversation(props.userId);
              props.onDone?.();
              navigate(conversationPath(c.conversationId));
            })
          }
        >
          Message directly
        </button>
        <button type="button" disabled={a.busy} onClick={() => void a.run(() => chat.setBlocked(props.userId, !blocked))}>
          {blocked ? 'Unblock' : 'Block'}
        </button>
        {!reporting && !reported && (
          <button type="button" onClick={() => setReporting(true)}>
            Report user
          </button>
        )}
      </div>
      {blocked && <p class="hint">You block {name}: they cannot message you or add you, and you don't see their messages.</p>}
      {reported && <p role="status">Thanks: the report went to the server's administrators.</p>}
      {reporting && (
        <ReportForm
          what={`Report ${name}`}
          send={(reason) => chat.reportUser(props.userId, reason)}
          onDone={(sent) => {
            setReporting(false);
            setReported(sent);
          }}
        />
      )}
      <ErrorLine error={a.error} />
    </div>
  );
}

/** A reason (required) and Send; onDone(true) once sent, onDone(false) on cancel. */
export function ReportForm(props: { what: string; send(reason: string): Promise<void>; onDone(sent: boolean): void }) {
  const [reason, setReason] = useState('');
  const a = useAction();
  return (
    <form
      class="report-form"
      aria-label={props.what}
      onSubmit={(e) => {
        e.preventDefault();
        if (!reasonOk(reason, true)) return;
        void a.run(() => props.send(reason.trim())).then((ok) => ok && props.onDone(true));
      }}
    >
      <ReasonField value={reason} onInput={setReason} label="What is wrong?" required />
      <ErrorLine error={a.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={a.busy || !reasonOk(reason, true)}>
          {a.busy ? 'Sending…' : 'Send report'}
        </button>
        <button type="button" onClick={() => props.onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
