// A conversation's members panel (from its header): members with their
// roles and mutes, adding people, and each member's actions, shown only to
// roles allowed them (chat/members.ts); leaving; the settings for admins.

import { useEffect, useState } from 'preact/hooks';
import type { Conversation, Member, Role } from '../api';
import { canAdd, canEditSettings, durations, isMuted, memberActions, roleNames, roles } from '../chat/members';
import { maxSlowModeSeconds } from '../limits';
import { fullTime } from '../util';
import { useChat, useNow } from './hooks';
import { Avatar, conversationTitle, displayName } from './common';
import { ErrorLine, Modal, ReasonField, reasonOk, useAction } from './Modal';
import { UserActions } from './UserDialog';

export function MembersDialog(props: { conversationId: string; onClose(): void }) {
  const chat = useChat();
  const now = useNow();
  const [settings, setSettings] = useState(false);
  const s = chat.state;
  const conv = s.conversations.get(props.conversationId);
  const ms = s.members?.conversationId === props.conversationId ? s.members : null;
  const actor = chat.actor(props.conversationId);

  useEffect(() => void chat.loadMembers(), [chat, props.conversationId]);

  if (!conv) return null;
  return (
    <Modal title="Members" onClose={props.onClose} wide>
      <p class="muted">
        {conversationTitle(chat, conv)}: {conv.participants.length} {conv.participants.length === 1 ? 'member' : 'members'}
        {actor.role && `, you are ${roleNames[actor.role].toLowerCase()}`}
      </p>
      {conv.direct && <p class="hint">A direct conversation: it is between you two only and never gains members.</p>}
      {canAdd(actor, conv) && <AddPeople conv={conv} />}
      <ul class="member-list" aria-label="Members">
        {(ms?.items ?? []).map((m) => (
          <MemberRow key={m.userId} conv={conv} m={m} now={now} />
        ))}
      </ul>
      {ms?.loading && <p class="muted">Loading members…</p>}
      <ErrorLine error={ms?.error ?? null} />
      {ms?.nextToken && !ms.loading && (
        <button type="button" class="link" onClick={() => void chat.loadMembers(true)}>
          Show more members
        </button>
      )}
      <div class="dialog-actions spread">
        {canEditSettings(actor, conv) && (
          <button type="button" onClick={() => setSettings(true)}>
            Conversation settings
          </button>
        )}
        {!conv.direct && <LeaveButton conv={conv} />}
      </div>
      {settings && <SettingsForm conv={conv} onClose={() => setSettings(false)} />}
    </Modal>
  );
}

/** Find by exact username or email, as the new-conversation dialog does, and add. */
function AddPeople(props: { conv: Conversation }) {
  const chat = useChat();
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const a = useAction();
  const add = () =>
    a.run(async () => {
      const q = query.trim();
      if (!q) return;
      setStatus(null);
      const u = await chat.findUser(q);
      if (!u) throw new Error(`No one has the username or email “${q}”.`);
      if (props.conv.participants.includes(u.userId)) throw new Error(`${displayName(u)} is already a member.`);
      const r = await chat.addMembers(props.conv.conversationId, [u.userId]);
      setQuery('');
      setStatus(r.invited.length ? `${displayName(u)} was sent an invitation (their settings ask for one).` : `${displayName(u)} was added.`);
    });
  return (
    <form
      class="add-people"
      onSubmit={(e) => {
        e.preventDefault();
        void add();
      }}
    >
      <label class="field" for="add-member">
        <span>Add people</span>
      </label>
      <div class="row">
        <input
          id="add-member"
          placeholder="Exact username or email"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="submit" disabled={!query.trim() || a.busy}>
          {a.busy ? 'Adding…' : 'Add'}
        </button>
      </div>
      <ErrorLine error={a.error} />
      {status && <p role="status">{status}</p>}
    </form>
  );
}

function MemberRow(props: { conv: Conversation; m: Member; now: number }) {
  const chat = useChat();
  const [open, setOpen] = useState(false);
  const { m, conv } = props;
  const u = chat.state.users.get(m.userId) ?? m.user ?? undefined;
  const me = m.userId === chat.state.userId;
  const name = me ? `${displayName(u, 'You')} (you)` : displayName(u);
  const muted = isMuted(m, props.now);
  const acts = memberActions(chat.actor(conv.conversationId), conv, m);
  return (
    <li class="member" data-user-id={m.userId}>
      <div class="member-main">
        <Avatar name={displayName(u, '?')} seed={m.userId} size="sm" online={u?.isOnline ?? false} />
        <span class="member-name">
          {name}
          {u && <span class="muted"> @{u.username}</span>}
        </span>
        <span class={`role role-${m.role.toLowerCase()}`}>{roleNames[m.role]}</span>
        {muted && (
          <span class="role role-muted" title={`Muted until ${fullTime(m.mutedUntil!)}`}>
            Muted
          </span>
        )}
        {!me && (
          <button type="button" class="link" aria-expanded={open ? 'true' : 'false'} aria-label={`Actions for ${displayName(u)}`} onClick={() => setOpen(!open)}>
            {open ? 'Close' : 'Actions'}
          </button>
        )}
      </div>
      {open && (
        <div class="member-actions">
          {muted && <p class="hint">Muted until {fullTime(m.mutedUntil!)}.</p>}
          <UserActions userId={m.userId} user={u} />
          {acts.moderate && <ModerationActions conv={conv} m={m} muted={muted} acts={acts} name={displayName(u)} />}
        </div>
      )}
    </li>
  );
}

function ModerationActions(props: { conv: Conversation; m: Member; muted: boolean; acts: ReturnType<typeof memberActions>; name: string }) {
  const chat = useChat();
  const { conv, m, acts } = props;
  const id = conv.conversationId;
  const a = useAction();
  const [role, setRole] = useState<Role | ''>('');
  const [minutes, setMinutes] = useState(60);
  const [reason, setReason] = useState('');
  const [confirm, setConfirm] = useState<'remove' | 'ban' | 'owner' | null>(null);
  const key = `${id}-${m.userId}`;
  return (
    <div class="moderation" role="group" aria-label={`Moderate ${props.name}`}>
      {acts.setRole.length > 0 && (
        <div class="row">
          <label class="sr-only" for={`role-${key}`}>
            New role for {props.name}
          </label>
          <select id={`role-${key}`} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            <option value="">Change role…</option>
            {acts.setRole.map((r) => (
              <option key={r} value={r}>
                {roleNames[r]}
              </option>
            ))}
          </select>
          <button type="button" disabled={!role || a.busy} onClick={() => role && void a.run(() => chat.setMemberRole(id, m.userId, role))}>
            Set role
          </button>
        </div>
      )}
      <div class="row wrap">
        <label class="sr-only" for={`dur-${key}`}>
          For how long
        </label>
        <select id={`dur-${key}`} value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
          {durations.map((d) => (
            <option key={d.minutes} value={d.minutes}>
              {d.label}
            </option>
          ))}
        </select>
        {props.muted ? (
          <button type="button" disabled={a.busy} onClick={() => void a.run(() => chat.unmuteMember(id, m.userId))}>
            Unmute
          </button>
        ) : (
          <button type="button" disabled={a.busy || minutes === 0 || !reasonOk(reason)} title={minutes === 0 ? 'A mute needs an end' : undefined} onClick={() => void a.run(() => chat.muteMember(id, m.userId, minutes, reason.trim()))}>
            Mute
          </button>
        )}
        <button type="button" class="danger" disabled={a.busy} onClick={() => setConfirm('ban')}>
          Ban…
        </button>
        {acts.remove && (
          <button type="button" class="danger" disabled={a.busy} onClick={() => setConfirm('remove')}>
            Remove…
          </button>
        )}
        {acts.transfer && (
          <button type="button" disabled={a.busy} onClick={() => setConfirm('owner')}>
            Make owner…
          </button>
        )}
      </div>
      <ReasonField value={reason} onInput={setReason} />
      {confirm && (
        <div class="confirm" role="alert">
          <span>
            {confirm === 'ban'
              ? `Ban ${props.name} ${minutes ? `for ${durations.find((d) => d.minutes === minutes)?.label}` : 'for good'}? They are removed and cannot come back until then.`
              : confirm === 'remove'
                ? `Remove ${props.name} from the conversation?`
                : `Make ${props.name} the owner? You become an admin.`}
          </span>
          <button
            type="button"
            class={confirm === 'owner' ? 'primary' : 'danger'}
            disabled={a.busy || !reasonOk(reason)}
            onClick={() =>
              void a
                .run(() =>
                  confirm === 'ban'
                    ? chat.banMember(id, m.userId, minutes, reason.trim())
                    : confirm === 'remove'
                      ? chat.removeMember(id, m.userId, reason.trim())
                      : chat.transferOwnership(id, m.userId),
                )
                .then(() => setConfirm(null))
            }
          >
            {confirm === 'ban' ? 'Ban' : confirm === 'remove' ? 'Remove' : 'Make owner'}
          </button>
          <button type="button" onClick={() => setConfirm(null)}>
            Cancel
          </button>
        </div>
      )}
      <ErrorLine error={a.error} />
    </div>
  );
}

function LeaveButton(props: { conv: Conversation }) {
  const chat = useChat();
  const a = useAction();
  const [confirm, setConfirm] = useState(false);
  if (!confirm) {
    return (
      <button type="button" class="danger" onClick={() => setConfirm(true)}>
        Leave conversation
      </button>
    );
  }
  return (
    <div class="confirm" role="alert">
      <span>Leave {conversationTitle(chat, props.conv)}? Someone has to add you again to come back.</span>
      <button type="button" class="danger" disabled={a.busy} onClick={() => void a.run(() => chat.leave(props.conv.conversationId))}>
        Leave
      </button>
      <button type="button" onClick={() => setConfirm(false)}>
        Cancel
      </button>
      <ErrorLine error={a.error} />
    </div>
  );
}

/** Who may add, post and react, and slow mode (admins). */
function SettingsForm(props: { conv: Conversation; onClose(): void }) {
  const chat = useChat();
  const cur = props.conv.settings ?? { addMembers: 'MEMBER', post: 'MEMBER', react: 'MEMBER', slowModeSeconds: 0 };
  const [addMembers, setAdd] = useState<Role>(cur.addMembers);
  const [post, setPost] = useState<Role>(cur.post);
  const [react, setReact] = useState<Role>(cur.react);
  const [slow, setSlow] = useState(String(cur.slowModeSeconds));
  const a = useAction();
  const slowN = Number(slow);
  const slowOk = Number.isInteger(slowN) && slowN >= 0 && slowN <= maxSlowModeSeconds;
  const pick = (label: string, value: Role, set: (r: Role) => void, id: string) => (
    <label class="field" for={id}>
      <span>{label}</span>
      <select id={id} value={value} onChange={(e) => set(e.currentTarget.value as Role)}>
        {roles.map((r) => (
          <option key={r} value={r}>
            {roleNames[r]} and above
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <Modal title="Conversation settings" onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!slowOk) return;
          void a.run(() => chat.updateSettings(props.conv.conversationId, { addMembers, post, react, slowModeSeconds: slowN })).then((ok) => ok && props.onClose());
        }}
      >
        {pick('Who may add people', addMembers, setAdd, 'set-add')}
        {pick('Who may post', post, setPost, 'set-post')}
        <small class="hint">Admins and above: an announcement conversation.</small>
        {pick('Who may react', react, setReact, 'set-react')}
        <label class="field" for="set-slow">
          <span>Slow mode (seconds between a member's messages, 0 is off)</span>
          <input id="set-slow" type="number" min={0} max={maxSlowModeSeconds} value={slow} aria-invalid={slowOk ? undefined : 'true'} onInput={(e) => setSlow(e.currentTarget.value)} />
        </label>
        {!slowOk && <p class="error">Between 0 and {maxSlowModeSeconds} seconds.</p>}
        <ErrorLine error={a.error} />
        <div class="dialog-actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={a.busy || !slowOk}>
            {a.busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
