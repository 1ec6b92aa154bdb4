import type { Invitation } from '../api';
import { roleNames } from '../chat/members';
import { conversationPath, navigate, useChat } from './hooks';
import { displayName } from './common';
import { ErrorLine, useAction } from './Modal';

/** Pending invitations (live: onInvitation), each with Accept and Decline. */
export function Invitations() {
  const chat = useChat();
  const list = chat.state.invitations;
  if (!list.length) return null;
  return (
    <section class="invitations" aria-labelledby="invitations-title">
      <h2 id="invitations-title" class="section-title">
        Invitations <span class="badge">{list.length}</span>
      </h2>
      <ul>
        {list.map((i) => (
          <InvitationItem key={i.conversationId} i={i} />
        ))}
      </ul>
    </section>
  );
}

function InvitationItem(props: { i: Invitation }) {
  const chat = useChat();
  const a = useAction();
  const { i } = props;
  const inviter = displayName(i.inviter ?? chat.state.users.get(i.invitedBy), 'Someone');
  const what = i.conversationName ? `“${i.conversationName}”` : 'a conversation';
  return (
    <li class="invitation">
      <span>
        {inviter} invites you to {what}
        {i.role !== 'MEMBER' && ` as ${roleNames[i.role].toLowerCase()}`}.
      </span>
      <span class="row">
        <button
          type="button"
          class="primary"
          disabled={a.busy}
          aria-label={`Accept the invitation to ${what}`}
          onClick={() =>
            void a.run(async () => {
              const c = await chat.answerInvitation(i.conversationId, true);
              if (c) navigate(conversationPath(c.conversationId));
            })
          }
        >
          Accept
        </button>
        <button type="button" disabled={a.busy} aria-label={`Decline the invitation to ${what}`} onClick={() => void a.run(() => chat.answerInvitation(i.conversationId, false))}>
          Decline
        </button>
      </span>
      <ErrorLine error={a.error} />
    </li>
  );
}
