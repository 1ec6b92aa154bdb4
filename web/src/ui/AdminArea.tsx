// The admin area (/admin, shown only to server administrators): users,
// conversations, the reports queue, the audit log and usage with an
// activity chart. Each list pages with "Show more".

import { useEffect, useRef, useState } from 'preact/hooks';
import type { Conversation, Page } from '../api';
import { adminApi, type AdminConversation, type AdminUser, type AuditEntry, type Report, type ReportStatus, type Usage } from '../adminapi';
import { alignDays, linePoints, plot } from '../chart';
import { durations, roleNames, until } from '../chat/members';
import { fullTime, shortTime } from '../util';
import { pagePath } from '../base';
import { linkClick, useChat } from './hooks';
import { conversationTitle, displayName } from './common';
import { ErrorLine, ReasonField, reasonOk, useAction } from './Modal';
import { IconBack } from './icons';

const tabs = ['Users', 'Conversations', 'Reports', 'Audit log', 'Usage'] as const;
type Tab = (typeof tabs)[number];

export function AdminArea() {
  const [tab, setTab] = useState<Tab>('Users');
  const list = useRef<HTMLDivElement>(null);
  const id = (t: Tab) => `admin-tab-${t.replace(/\W/g, '')}`;
  return (
    <section class="admin" aria-labelledby="admin-title">
      <header class="thread-head">
        <a class="icon-btn back" href={pagePath('/')} aria-label="Back to conversations" onClick={(e) => linkClick(e, '/')}>
          <IconBack />
        </a>
        <div class="thread-title">
          <h2 id="admin-title">Administration</h2>
        </div>
      </header>
      <div
        class="tabs"
        role="tablist"
        aria-label="Admin sections"
        ref={list}
        onKeyDown={(e) => {
          if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
          e.preventDefault();
          const i = tabs.indexOf(tab) + (e.key === 'ArrowRight' ? 1 : tabs.length - 1);
          const next = tabs[i % tabs.length];
          setTab(next);
          requestAnimationFrame(() => list.current?.querySelector<HTMLElement>(`#${id(next)}`)?.focus());
        }}
      >
        {tabs.map((t) => (
          <button
            key={t}
            id={id(t)}
            role="tab"
            aria-selected={t === tab ? 'true' : 'false'}
            aria-controls="admin-panel"
            tabIndex={t === tab ? 0 : -1}
            class={t === tab ? 'active' : ''}
            onClick={() => setTab(t)}
          >
            {t}
          </button>
        ))}
      </div>
      <div class="admin-body" id="admin-panel" role="tabpanel" aria-labelledby={id(tab)}>
        {tab === 'Users' && <UsersTab />}
        {tab === 'Conversations' && <ConversationsTab />}
        {tab === 'Reports' && <ReportsTab />}
        {tab === 'Audit log' && <AuditTab />}
        {tab === 'Usage' && <UsageTab />}
      </div>
    </section>
  );
}

/** A paged list: the first page on mount (and when key changes), more on demand. */
function usePaged<T>(load: (next: string | null) => Promise<Page<T>>, key: string) {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const a = useAction();
  const fetchPage = (more: boolean) =>
    a.run(async () => {
      const p = await load(more ? next : null);
      setItems((old) => (more ? [...old, ...p.items] : p.items));
      setNext(p.nextToken);
    });
  useEffect(() => void fetchPage(false), [key]);
  const replace = (f: (x: T) => boolean, v: T | null) => setItems((old) => old.flatMap((x) => (f(x) ? (v ? [v] : []) : [x])));
  return { items, next, loading: a.busy, error: a.error, more: () => fetchPage(true), reload: () => fetchPage(false), replace };
}

function More(props: { next: string | null; loading: boolean; more(): void }) {
  if (props.loading) return <p class="muted">Loading…</p>;
  if (!props.next) return null;
  return (
    <button type="button" class="link" onClick={props.more}>
      Show more
    </button>
  );
}

// ---- users ----

function UsersTab() {
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  const users = usePaged((next) => adminApi.users(search || null, next), search);
  return (
    <div>
      <form
        class="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(q.trim());
        }}
      >
        <label class="sr-only" for="admin-user-search">
          Search users
        </label>
        <input id="admin-user-search" placeholder="Username, email or id starts with…" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      <ul class="admin-list" aria-label="Users">
        {users.items.map((u) => (
          <UserRow key={u.user.userId} u={u} onChange={(v) => users.replace((x) => x.user.userId === u.user.userId, v)} />
        ))}
      </ul>
      {!users.loading && !users.items.length && <p class="muted">No users found.</p>}
      <ErrorLine error={users.error} />
      <More next={users.next} loading={users.loading} more={users.more} />
    </div>
  );
}

function UserRow(props: { u: AdminUser; onChange(v: AdminUser | null): void }) {
  const chat = useChat();
  const { u } = props;
  const [open, setOpen] = useState(false);
  const [minutes, setMinutes] = useState(0);
  const [reason, setReason] = useState('');
  const [password, setPassword] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [withMessages, setWithMessages] = useState(false);
  const a = useAction();
  const name = displayName(u.user);
  const me = u.user.userId === chat.state.userId;
  const banned = !!u.ban && (!u.ban.until || Date.parse(u.ban.until) > Date.now());
  const act = (f: () => Promise<AdminUser | null>) => a.run(async () => props.onChange(await f()));
  return (
    <li class="admin-item" data-user-id={u.user.userId}>
      <div class="admin-item-main">
        <span>
          <strong>{name}</strong> <span class="muted">@{u.user.username} · {u.email}</span>
        </span>
        <span class="badges">
          {u.user.isAdmin && <span class="role role-admin">Admin</span>}
          {u.disabled && <span class="role role-muted">Disabled</span>}
          {banned && <span class="role role-banned">Banned {u.ban!.until ? `until ${shortTime(u.ban!.until)}` : 'for good'}</span>}
        </span>
        <button type="button" class="link" aria-expanded={open ? 'true' : 'false'} aria-label={`Actions for ${name}`} onClick={() => setOpen(!open)}>
          {open ? 'Close' : 'Actions'}
        </button>
      </div>
      {open && (
        <div class="admin-actions" role="group" aria-label={`Administer ${name}`}>
          <div class="row wrap">
            <button type="button" disabled={a.busy || me} onClick={() => void act(() => adminApi.setDisabled(u.user.userId, !u.disabled, reason.trim()))}>
              {u.disabled ? 'Enable' : 'Disable'}
            </button>
            <button type="button" disabled={a.busy} onClick={() => void a.run(() => adminApi.signOut(u.user.userId))}>
              Sign out everywhere
            </button>
            <button type="button" disabled={a.busy} onClick={() => void a.run(async () => setPassword(await adminApi.resetPassword(u.user.userId)))}>
              Reset password
            </button>
            <button type="button" disabled={a.busy || me} onClick={() => void act(() => adminApi.setAdmin(u.user.userId, !u.user.isAdmin))}>
              {u.user.isAdmin ? 'Revoke admin' : 'Make admin'}
            </button>
          </div>
          {password && (
            <div class="secret" role="status">
              Temporary password for {name}, shown once: <code>{password}</code>. They must change it at their next sign-in.
              <button type="button" class="link" onClick={() => setPassword(null)}>
                Hide
              </button>
            </div>
          )}
          <div class="row wrap">
            <label class="sr-only" for={`ban-${u.user.userId}`}>
              Ban for how long
            </label>
            <select id={`ban-${u.user.userId}`} value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
              {durations.map((d) => (
                <option key={d.minutes} value={d.minutes}>
                  {d.label}
                </option>
              ))}
            </select>
            {banned ? (
              <button type="button" disabled={a.busy} onClick={() => void act(() => adminApi.unban(u.user.userId))}>
                Unban
              </button>
            ) : (
              <button type="button" class="danger" disabled={a.busy || me || !reasonOk(reason)} onClick={() => void act(() => adminApi.ban(u.user.userId, until(Date.now(), minutes), reason.trim()))}>
                Ban from the server
              </button>
            )}
            <button type="button" class="danger" disabled={a.busy || me} onClick={() => setConfirmDelete(true)}>
              Delete account…
            </button>
          </div>
          <ReasonField value={reason} onInput={setReason} />
          {confirmDelete && (
            <div class="confirm" role="alert">
              <span>Delete {name}'s account? This cannot be undone.</span>
              <label class="check">
                <input type="checkbox" checked={withMessages} onChange={(e) => setWithMessages(e.currentTarget.checked)} /> Delete their messages too
              </label>
              <button type="button" class="danger" disabled={a.busy} onClick={() => void a.run(async () => {
                await adminApi.deleteUser(u.user.userId, withMessages, reason.trim());
                props.onChange(null);
              })}>
                Delete
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </div>
          )}
          <ErrorLine error={a.error} />
        </div>
      )}
    </li>
  );
}

// ---- conversations ----

function ConversationsTab() {
  const chat = useChat();
  const convs = usePaged((next) => adminApi.conversations(next), '');
  useEffect(() => void chat.ensureUsers(convs.items.flatMap((c) => c.participants.slice(0, 4))), [convs.items]);
  return (
    <div>
      <ul class="admin-list" aria-label="Conversations">
        {convs.items.map((c) => (
          <ConversationRow key={c.conversationId} c={c} onChange={(v) => convs.replace((x) => x.conversationId === c.conversationId, v)} />
        ))}
      </ul>
      {!convs.loading && !convs.items.length && <p class="muted">No conversations.</p>}
      <ErrorLine error={convs.error} />
      <More next={convs.next} loading={convs.loading} more={convs.more} />
    </div>
  );
}

function ConversationRow(props: { c: Conversation; onChange(v: Conversation | null): void }) {
  const chat = useChat();
  const { c } = props;
  const [open, setOpen] = useState(false);
  const [detail, setDetail] = useState<AdminConversation | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [reason, setReason] = useState('');
  const a = useAction();
  // a server admin usually is not a member: name it from its participants
  const title = c.name || conversationTitle(chat, { name: null, participants: [...c.participants, chat.state.userId] });
  const inspect = () =>
    a.run(async () => {
      const d = await adminApi.conversation(c.conversationId);
      setDetail(d);
      if (d) void chat.ensureUsers(d.members.items.map((m) => m.userId));
    });
  return (
    <li class="admin-item" data-conversation-id={c.conversationId}>
      <div class="admin-item-main">
        <span>
          <strong>{title}</strong>{' '}
          <span class="muted">
            {c.participants.length} members · {c.messageCount ?? 0} messages · created {shortTime(c.createdAt)}
          </span>
        </span>
        <span class="badges">
          {c.direct && <span class="role">Direct</span>}
          {c.archivedAt && <span class="role role-muted">Archived</span>}
        </span>
        <button
          type="button"
          class="link"
          aria-expanded={open ? 'true' : 'false'}
          aria-label={`Actions for ${title}`}
          onClick={() => {
            setOpen(!open);
            if (!open && !detail) void inspect();
          }}
        >
          {open ? 'Close' : 'Inspect'}
        </button>
      </div>
      {open && (
        <div class="admin-actions" role="group" aria-label={`Administer ${title}`}>
          {detail && (
            <ul class="member-list compact" aria-label={`Members of ${title}`}>
              {detail.members.items.map((m) => (
                <li key={m.userId}>
                  {displayName(chat.state.users.get(m.userId) ?? m.user ?? undefined)} <span class={`role role-${m.role.toLowerCase()}`}>{roleNames[m.role]}</span>
                </li>
              ))}
            </ul>
          )}
          <div class="row wrap">
            <button type="button" disabled={a.busy} onClick={() => void a.run(async () => props.onChange(await adminApi.archive(c.conversationId, !c.archivedAt)))}>
              {c.archivedAt ? 'Unarchive' : 'Archive'}
            </button>
            <button type="button" class="danger" disabled={a.busy} onClick={() => setConfirmDelete(true)}>
              Delete…
            </button>
          </div>
          {confirmDelete && (
            <div class="confirm" role="alert">
              <ReasonField value={reason} onInput={setReason} />
              <span>Delete {title} with all its messages? This cannot be undone.</span>
              <button type="button" class="danger" disabled={a.busy || !reasonOk(reason)} onClick={() => void a.run(async () => {
                await adminApi.deleteConversation(c.conversationId, reason.trim());
                props.onChange(null);
              })}>
                Delete
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </div>
          )}
          <ErrorLine error={a.error} />
        </div>
      )}
    </li>
  );
}

// ---- reports ----

function ReportsTab() {
  const chat = useChat();
  const [status, setStatus] = useState<ReportStatus | ''>('OPEN');
  const reports = usePaged((next) => adminApi.reports(status || null, next), status);
  useEffect(() => void chat.ensureUsers(reports.items.flatMap((r) => [r.reporterId, r.userId])), [reports.items]);
  return (
    <div>
      <label class="row" for="report-status">
        <span>Show</span>
        <select id="report-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as ReportStatus | '')}>
          <option value="OPEN">Open reports</option>
          <option value="RESOLVED">Resolved</option>
          <option value="DISMISSED">Dismissed</option>
          <option value="">All</option>
        </select>
      </label>
      <ul class="admin-list" aria-label="Reports">
        {reports.items.map((r) => (
          <ReportRow key={r.reportId} r={r} onChange={(v) => reports.replace((x) => x.reportId === r.reportId, status && v.status !== status ? null : v)} />
        ))}
      </ul>
      {!reports.loading && !reports.items.length && <p class="muted">No reports.</p>}
      <ErrorLine error={reports.error} />
      <More next={reports.next} loading={reports.loading} more={reports.more} />
    </div>
  );
}

function ReportRow(props: { r: Report; onChange(v: Report): void }) {
  const chat = useChat();
  const { r } = props;
  const [resolution, setResolution] = useState('');
  const a = useAction();
  const decide = (status: ReportStatus) => a.run(async () => props.onChange(await adminApi.resolveReport(r.reportId, status, resolution.trim())));
  return (
    <li class="admin-item" data-report-id={r.reportId}>
      <div>
        <strong>{chat.userName(r.reporterId)}</strong> reported {r.messageId ? 'a message of ' : ''}
        <strong>{chat.userName(r.userId)}</strong> <span class="muted">{fullTime(r.createdAt)}</span>
      </div>
      {r.messageId && <blockquote class="reported">{r.message ? r.message.deletedAt ? <em>(deleted)</em> : r.message.content : <em>(gone)</em>}</blockquote>}
      <p>Reason: {r.reason}</p>
      {r.status === 'OPEN' ? (
        <div class="admin-actions">
          <ReasonField value={resolution} onInput={setResolution} label="Resolution" />
          <div class="row">
            <button type="button" class="primary" disabled={a.busy || !reasonOk(resolution)} onClick={() => void decide('RESOLVED')}>
              Resolve
            </button>
            <button type="button" disabled={a.busy || !reasonOk(resolution)} onClick={() => void decide('DISMISSED')}>
              Dismiss
            </button>
          </div>
          <ErrorLine error={a.error} />
        </div>
      ) : (
        <p class="muted">
          {r.status === 'RESOLVED' ? 'Resolved' : 'Dismissed'} by {r.resolvedBy ? chat.userName(r.resolvedBy) : '…'}
          {r.resolvedAt && ` ${fullTime(r.resolvedAt)}`}
          {r.resolution && `: ${r.resolution}`}
        </p>
      )}
    </li>
  );
}

// ---- audit log ----

function AuditTab() {
  const chat = useChat();
  const log = usePaged((next) => adminApi.auditLog(next), '');
  useEffect(() => void chat.ensureUsers(log.items.flatMap((e) => [e.actorId, e.userId].filter((x): x is string => !!x))), [log.items]);
  return (
    <div>
      <ol class="admin-list audit" aria-label="Audit log">
        {log.items.map((e) => (
          <AuditRow key={e.entryId} e={e} />
        ))}
      </ol>
      {!log.loading && !log.items.length && <p class="muted">Nothing recorded yet.</p>}
      <ErrorLine error={log.error} />
      <More next={log.next} loading={log.loading} more={log.more} />
    </div>
  );
}

function AuditRow(props: { e: AuditEntry }) {
  const chat = useChat();
  const { e } = props;
  const action = e.action.toLowerCase().replace(/_/g, ' ');
  return (
    <li class="admin-item" data-action={e.action}>
      <time dateTime={e.at}>{fullTime(e.at)}</time> <strong>{e.actorId ? chat.userName(e.actorId) : 'command line'}</strong>: {action}
      {e.userId && <> · user {chat.userName(e.userId)}</>}
      {e.conversationId && <span class="muted"> · conversation {e.conversationId}</span>}
      {e.until && <> · until {fullTime(e.until)}</>}
      {e.reason && <> · “{e.reason}”</>}
      {e.detail && <span class="muted"> · {e.detail}</span>}
    </li>
  );
}

// ---- usage ----

function UsageTab() {
  const [days, setDays] = useState(30);
  const [usage, setUsage] = useState<Usage | null>(null);
  const a = useAction();
  useEffect(() => void a.run(async () => setUsage(await adminApi.usage(days))), [days]);
  return (
    <div>
      <label class="row" for="usage-days">
        <span>Period</span>
        <select id="usage-days" value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          <option value={7}>Last 7 days</option>
          <option value={30}>Last 30 days</option>
          <option value={90}>Last 90 days</option>
          <option value={366}>Last year</option>
        </select>
      </label>
      <ErrorLine error={a.error} />
      {a.busy && !usage && <p class="muted">Loading…</p>}
      {usage && (
        <>
          <dl class="totals">
            <div>
              <dt>Users</dt>
              <dd>{usage.users}</dd>
            </div>
            <div>
              <dt>Conversations</dt>
              <dd>{usage.conversations}</dd>
            </div>
            <div>
              <dt>Files stored</dt>
              <dd>{bytes(usage.storageBytes)}</dd>
            </div>
          </dl>
          <ActivityChart usage={usage} />
          {usage.topConversations.length > 0 && (
            <>
              <h3>Most active conversations</h3>
              <ol class="top-list">
                {usage.topConversations.map((c) => (
                  <li key={c.conversationId}>
                    {c.name || c.conversationId}: {c.messages} messages
                  </li>
                ))}
              </ol>
            </>
          )}
        </>
      )}
    </div>
  );
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(1)} ${units[i]}`;
}

const chartW = 640;
const chartH = 180;

/** Messages per day (bars) and active users per day (a line), inline SVG;
 *  the same figures as a table for screen readers. */
function ActivityChart(props: { usage: Usage }) {
  const { days, counts } = alignDays([props.usage.messagesPerDay, props.usage.activeUsersPerDay]);
  const [messages, active] = counts;
  const p = plot(days.length, Math.max(0, ...messages, ...active), chartW, chartH);
  const bar = Math.max(1, p.slot * 0.7);
  return (
    <figure class="chart">
      <figcaption>
        Activity per day, {props.usage.from} to {props.usage.to}: <span class="key key-messages">messages</span> and{' '}
        <span class="key key-active">active users</span>
      </figcaption>
      <svg viewBox={`0 -12 ${chartW} ${chartH + 30}`} role="img" aria-label={`Activity chart: up to ${Math.max(0, ...messages)} messages and ${Math.max(0, ...active)} active users a day`}>
        <line class="axis" x1={0} y1={chartH} x2={chartW} y2={chartH} />
        <text class="tick" x={2} y={-2}>
          {p.max}
        </text>
        {messages.map((c, i) => (
          <rect key={days[i]} class="bar" x={p.xs[i] - bar / 2} y={p.y(c)} width={bar} height={chartH - p.y(c)}>
            <title>
              {days[i]}: {c} messages, {active[i]} active users
            </title>
          </rect>
        ))}
        <polyline class="line" points={linePoints(p, active)} />
        {days.length > 0 && (
          <>
            <text class="tick" x={0} y={chartH + 16}>
              {days[0]}
            </text>
            <text class="tick" x={chartW} y={chartH + 16} text-anchor="end">
              {days[days.length - 1]}
            </text>
          </>
        )}
      </svg>
      <details>
        <summary>The figures</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Messages</th>
              <th scope="col">Active users</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d, i) => (
              <tr key={d}>
                <th scope="row">{d}</th>
                <td>{messages[i]}</td>
                <td>{active[i]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
