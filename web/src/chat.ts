// The signed-in app's state and everything that changes it. Components read
// `chat.state` and re-render when it changes (see useChat in ui/hooks.ts).

import {
  api,
  ApiError,
  describeError,
  messageFields,
  conversationFields,
  userFields,
  type Conversation,
  type Message,
  type User,
} from './api';
import { Realtime, type ConnState, type GraphQLError } from './realtime';
import { randomToken } from './util';
import * as outbox from './chat/outbox';
import type { Outbox, Pending } from './chat/outbox';

export type { Pending } from './chat/outbox';

/** The open conversation's messages. */
export interface Thread {
  conversationId: string;
  /** Confirmed messages, oldest first, by seq. */
  messages: Message[];
  /** Own messages not yet confirmed, as shown (outbox.visible). */
  pending: Pending[];
  nextToken: string | null;
  loading: boolean;
  loadingOlder: boolean;
  error: string | null;
  olderError: string | null;
  /** Highest seq seen: what a resumed subscription asks to start after. */
  lastSeq: number;
  /** A message to scroll to and highlight (from search). */
  highlightSeq: number | null;
}

export interface SearchState {
  term: string;
  loading: boolean;
  results: Message[] | null;
  error: string | null;
}

export interface State {
  userId: string;
  me: User | null;
  conn: ConnState;
  online: boolean;
  conversations: Map<string, Conversation>;
  convsLoading: boolean;
  convsError: string | null;
  convsNextToken: string | null;
  users: Map<string, User>;
  openId: string | null;
  openError: string | null;
  thread: Thread | null;
  search: SearchState | null;
  /** A transient message for the whole app (role=alert). */
  notice: string | null;
}

const pageSize = 30;
// Presence is followed for the most recently active conversations only: the
// server allows 100 subscriptions per connection (--max-subscriptions) and
// meters subscribe messages (20/s, bursts of 40), and a reconnect sends them
// all again at once.
const maxPresenceSubscriptions = 25;

export function activityTime(c: Conversation): number {
  return new Date(c.lastMessageAt || c.createdAt).getTime() || 0;
}

export class Chat {
  state: State;
  private listeners = new Set<() => void>();
  private notifyQueued = false;
  private rt: Realtime;
  private threadSubs: (() => void)[] = [];
  private presenceSubs = new Map<string, () => void>();
  /** Own sends not yet answered, by conversation; empty ones are dropped. */
  private outboxes = new Map<string, Outbox>();
  private userFetches = new Set<string>();
  private readTimer: ReturnType<typeof setTimeout> | undefined;
  private readSent = new Map<string, number>();
  private lastResumeReload = 0;
  private stopped = false;
  private cleanup: (() => void)[] = [];

  constructor(userId: string) {
    this.state = {
      userId,
      me: null,
      conn: 'connecting',
      online: navigator.onLine,
      conversations: new Map(),
      convsLoading: true,
      convsError: null,
      convsNextToken: null,
      users: new Map(),
      openId: null,
      openError: null,
      thread: null,
      search: null,
      notice: null,
    };
    this.rt = new Realtime({
      onState: (s) => {
        this.state.conn = s;
        this.changed();
      },
      onReconnected: () => void this.reconcile(),
    });
    const online = () => {
      this.state.online = navigator.onLine;
      this.changed();
    };
    const visible = () => {
      if (document.visibilityState === 'visible') this.scheduleMarkRead();
    };
    window.addEventListener('online', online);
    window.addEventListener('offline', online);
    document.addEventListener('visibilitychange', visible);
    this.cleanup.push(
      () => window.removeEventListener('online', online),
      () => window.removeEventListener('offline', online),
      () => document.removeEventListener('visibilitychange', visible),
    );
  }

  // ---- change notification ----

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Marks the state changed; listeners run once per microtask. */
  changed() {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      this.updateTitle();
      for (const l of [...this.listeners]) l();
    });
  }

  private updateTitle() {
    let unread = 0;
    for (const c of this.state.conversations.values()) unread += c.conversationId === this.state.openId ? 0 : c.unreadCount;
    document.title = unread > 0 ? `(${unread}) confab` : 'confab';
  }

  // ---- lifecycle ----

  start() {
    this.rt.subscribe<{ onConversationUpdated: Conversation | null }>(
      `subscription ConversationUpdated($userId: ID!) { onConversationUpdated(userId: $userId) { ${conversationFields} } }`,
      () => ({ userId: this.state.userId }),
      { next: (d) => d.onConversationUpdated && this.upsertConversation(d.onConversationUpdated) },
    );
    void this.loadMe();
    void this.loadConversations();
  }

  stop() {
    this.stopped = true;
    this.threadSubs.forEach((f) => f());
    this.presenceSubs.forEach((f) => f());
    this.cleanup.forEach((f) => f());
    clearTimeout(this.readTimer);
    this.rt.dispose();
    this.listeners.clear();
    document.title = 'confab';
  }

  private async loadMe() {
    try {
      const me = await api.me();
      if (me) {
        this.state.me = me;
        this.mergeUsers([me]);
      }
    } catch {
      /* the header falls back to the user id; reconcile retries */
    }
  }

  // ---- users and presence ----

  userName(userId: string): string {
    const u = this.state.users.get(userId);
    return u ? u.displayName || u.username : '…';
  }

  private mergeUsers(users: User[]) {
    for (const u of users) {
      const old = this.state.users.get(u.userId);
      this.state.users.set(u.userId, { ...old, ...u });
      if (u.userId === this.state.userId) this.state.me = { ...this.state.me, ...u };
    }
    this.changed();
  }

  async ensureUsers(ids: Iterable<string>) {
    const missing = [...new Set(ids)].filter((id) => !this.state.users.has(id) && !this.userFetches.has(id));
    if (!missing.length) return;
    missing.forEach((id) => this.userFetches.add(id));
    try {
      for (let i = 0; i < missing.length; i += 50) {
        this.mergeUsers(await api.getUsers(missing.slice(i, i + 50)));
      }
    } catch {
      /* names show as "…" until the next reconcile */
    } finally {
      missing.forEach((id) => this.userFetches.delete(id));
    }
  }

  private syncPresenceSubscriptions() {
    const wanted = [...this.state.conversations.values()]
      .sort((a, b) => activityTime(b) - activityTime(a))
      .slice(0, maxPresenceSubscriptions)
      .map((c) => c.conversationId);
    const open = this.state.openId;
    if (open && this.state.conversations.has(open) && !wanted.includes(open)) wanted.push(open);
    const keep = new Set(wanted);
    for (const [id, stop] of this.presenceSubs) {
      if (!keep.has(id)) {
        stop();
        this.presenceSubs.delete(id);
      }
    }
    for (const id of wanted) {
      if (this.presenceSubs.has(id)) continue;
      this.presenceSubs.set(
        id,
        this.rt.subscribe<{ onUserPresenceUpdated: User | null }>(
          `subscription Presence($c: ID!) { onUserPresenceUpdated(conversationId: $c) { ${userFields} } }`,
          () => ({ c: id }),
          { next: (d) => d.onUserPresenceUpdated && this.mergeUsers([d.onUserPresenceUpdated]) },
        ),
      );
    }
  }

  async findUser(q: string): Promise<User | null> {
    const u = await api.findUser(q.trim());
    if (u) this.mergeUsers([u]);
    return u;
  }

  // ---- conversations ----

  sortedConversations(): Conversation[] {
    return [...this.state.conversations.values()].sort((a, b) => activityTime(b) - activityTime(a));
  }

  async loadConversations(more = false) {
    const s = this.state;
    s.convsLoading = true;
    s.convsError = null;
    this.changed();
    try {
      const page = await api.listConversations(s.userId, more ? s.convsNextToken : null);
      if (this.stopped) return;
      page.items.forEach((c) => this.upsertConversation(c, false));
      if (more || !s.convsNextToken || !page.nextToken) s.convsNextToken = page.nextToken;
      void this.ensureUsers(page.items.flatMap((c) => c.participants));
      this.syncPresenceSubscriptions();
    } catch (e) {
      s.convsError = describeError(e);
    } finally {
      s.convsLoading = false;
      this.changed();
    }
  }

  private upsertConversation(c: Conversation, sync = true) {
    const s = this.state;
    const old = s.conversations.get(c.conversationId);
    const next = { ...old, ...c };
    // Never move a conversation's activity backwards (events may cross).
    if (old && activityTime(old) > activityTime(next)) {
      next.lastMessageAt = old.lastMessageAt;
      next.lastMessage = old.lastMessage;
    }
    if (old) next.lastSeq = Math.max(old.lastSeq, c.lastSeq);
    if (c.conversationId === s.openId && document.visibilityState === 'visible') {
      next.unreadCount = 0;
      this.scheduleMarkRead();
    }
    s.conversations.set(c.conversationId, next);
    if (sync) {
      void this.ensureUsers(c.participants);
      this.syncPresenceSubscriptions();
    }
    this.changed();
  }

  /** The list preview follows a message we know of before the server's update does. */
  private bumpConversation(m: Message) {
    const c = this.state.conversations.get(m.conversationId);
    if (!c || m.seq <= c.lastSeq) return;
    c.lastSeq = m.seq;
    c.lastMessage = m.content;
    c.lastMessageAt = m.createdAt;
    this.changed();
  }

  async createConversation(name: string, participants: string[]): Promise<Conversation> {
    const c = await api.createConversation(name.trim() || null, participants);
    this.upsertConversation(c);
    return c;
  }

  // ---- the open conversation ----

  openConversation(id: string | null) {
    const s = this.state;
    if (s.openId === id) return;
    this.threadSubs.forEach((f) => f());
    this.threadSubs = [];
    s.openId = id;
    s.openError = null;
    s.search = null;
    s.thread = null;
    this.changed();
    if (!id) return;
    const t: Thread = {
      conversationId: id,
      messages: [],
      pending: outbox.visible(this.outboxFor(id)),
      nextToken: null,
      loading: true,
      loadingOlder: false,
      error: null,
      olderError: null,
      lastSeq: 0,
      highlightSeq: null,
    };
    s.thread = t;
    this.syncPresenceSubscriptions();
    void this.loadThread(t);
  }

  private outboxFor(id: string): Outbox {
    return this.outboxes.get(id) ?? outbox.emptyOutbox;
  }

  /** Replaces a conversation's outbox, and what the open thread shows of it. */
  private setOutbox(id: string, o: Outbox) {
    if (outbox.isEmpty(o)) this.outboxes.delete(id);
    else this.outboxes.set(id, o);
    const t = this.state.thread;
    if (t && t.conversationId === id) t.pending = outbox.visible(o);
    this.changed();
  }

  private isOpen(t: Thread): boolean {
    return !this.stopped && this.state.thread === t;
  }

  private async loadThread(t: Thread) {
    const id = t.conversationId;
    try {
      let conv = this.state.conversations.get(id);
      if (!conv) {
        const c = await api.getConversation(id);
        if (!this.isOpen(t)) return;
        if (!c) {
          this.state.openError = 'This conversation does not exist, or you are not in it.';
          t.loading = false;
          this.changed();
          return;
        }
        this.upsertConversation(c);
        conv = c;
      }
      void this.ensureUsers(conv.participants);
      const knownLastSeq = conv.lastSeq;
      const page = await api.listMessages(id, null, pageSize);
      if (!this.isOpen(t)) return;
      this.addMessages(t, page.items);
      t.nextToken = page.nextToken;
      t.lastSeq = Math.max(t.lastSeq, page.items.length ? page.items[0].seq : knownLastSeq);
      t.loading = false;
      this.changed();
      this.subscribeThread(t);
      this.scheduleMarkRead();
    } catch (e) {
      if (!this.isOpen(t)) return;
      t.loading = false;
      if (e instanceof ApiError && e.code === 'NOT_FOUND') {
        this.state.openError = 'This conversation does not exist, or you are not in it.';
      } else {
        t.error = describeError(e);
      }
      this.changed();
    }
  }

  retryThread() {
    const t = this.state.thread;
    if (!t || t.loading) return;
    t.error = null;
    t.loading = true;
    this.changed();
    void this.loadThread(t);
  }

  private subscribeThread(t: Thread) {
    const id = t.conversationId;
    this.threadSubs.push(
      this.rt.subscribe<{ onMessageSent: Message | null }>(
        `subscription MessageSent($c: ID!, $after: Int) { onMessageSent(conversationId: $c, afterSeq: $after) { ${messageFields} } }`,
        // re-read on every resubscribe: resume after the last message seen
        () => ({ c: id, after: t.lastSeq }),
        {
          next: (d) => {
            const m = d.onMessageSent;
            if (!m || !this.isOpen(t)) return;
            // Our own message may come back before its send answered.
            const known = t.messages.some((x) => x.seq === m.seq);
            if (!known && m.userId === this.state.userId) this.setOutbox(id, outbox.noteEarly(this.outboxFor(id), m));
            this.addMessages(t, [m]);
            this.bumpConversation(m);
            this.scheduleMarkRead();
          },
          error: (errs) => this.onResumeError(t, errs),
        },
      ),
      this.rt.subscribe<{ onMessageDeleted: Message | null }>(
        `subscription MessageDeleted($c: ID!) { onMessageDeleted(conversationId: $c) { ${messageFields} } }`,
        () => ({ c: id }),
        { next: (d) => d.onMessageDeleted && this.removeMessage(t, d.onMessageDeleted.messageId) },
      ),
    );
  }

  /** The message stream ended with an error, e.g. too far behind to resume:
   *  start again from the newest page. */
  private onResumeError(t: Thread, errs: readonly GraphQLError[]) {
    if (!this.isOpen(t)) return;
    const code = errs[0]?.extensions?.code;
    if (code === 'NOT_FOUND' || code === 'FORBIDDEN') {
      this.state.openError = 'This conversation does not exist, or you are not in it.';
      this.changed();
      return;
    }
    const wait = Math.max(0, this.lastResumeReload + 5_000 - Date.now());
    setTimeout(() => {
      if (!this.isOpen(t)) return;
      this.lastResumeReload = Date.now();
      this.threadSubs.forEach((f) => f());
      this.threadSubs = [];
      t.messages = [];
      t.lastSeq = 0;
      t.loading = true;
      this.changed();
      void this.loadThread(t);
    }, wait);
  }

  /** After a reconnect: refresh what has no resume (the list, presence,
   *  deletions). New messages come through the resumed subscription. */
  private async reconcile() {
    void this.loadMe();
    void this.loadConversations();
    const ids = [...this.state.users.keys()].slice(0, 200);
    try {
      for (let i = 0; i < ids.length; i += 50) this.mergeUsers(await api.getUsers(ids.slice(i, i + 50)));
    } catch {
      /* best effort */
    }
    const t = this.state.thread;
    if (!t || t.loading || !t.messages.length) return;
    try {
      const page = await api.listMessages(t.conversationId, null, pageSize);
      if (!this.isOpen(t) || !page.items.length) return;
      const present = new Set(page.items.map((m) => m.messageId));
      const lo = page.items[page.items.length - 1].seq;
      const hi = page.items[0].seq;
      t.messages = t.messages.filter((m) => m.seq < lo || m.seq > hi || present.has(m.messageId));
      this.addMessages(t, page.items);
      this.changed();
    } catch {
      /* best effort */
    }
  }

  private addMessages(t: Thread, msgs: Message[]) {
    if (!msgs.length) return;
    const bySeq = new Map(t.messages.map((m) => [m.seq, m]));
    for (const m of msgs) {
      bySeq.set(m.seq, m);
      t.lastSeq = Math.max(t.lastSeq, m.seq);
    }
    t.messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    this.changed();
  }

  private removeMessage(t: Thread, messageId: string) {
    t.messages = t.messages.filter((m) => m.messageId !== messageId);
    const s = this.state.search;
    if (s?.results) s.results = s.results.filter((m) => m.messageId !== messageId);
    this.changed();
  }

  async loadOlder() {
    const t = this.state.thread;
    if (!t || t.loading || t.loadingOlder || !t.nextToken) return;
    t.loadingOlder = true;
    t.olderError = null;
    this.changed();
    try {
      const page = await api.listMessages(t.conversationId, t.nextToken, pageSize);
      if (!this.isOpen(t)) return;
      this.addMessages(t, page.items);
      t.nextToken = page.nextToken;
    } catch (e) {
      t.olderError = describeError(e);
    } finally {
      t.loadingOlder = false;
      this.changed();
    }
  }

  // ---- sending and deleting ----

  send(content: string) {
    const t = this.state.thread;
    if (!t || !content.trim()) return;
    const p: Pending = {
      clientToken: randomToken(),
      content,
      createdAt: new Date().toISOString(),
      status: 'sending',
    };
    this.setOutbox(t.conversationId, outbox.enqueue(this.outboxFor(t.conversationId), p));
    void this.deliver(t.conversationId, p);
  }

  /** Sends (or re-sends: the clientToken makes that safe) a pending message.
   *  Only this send's own answer settles or fails its entry. */
  private async deliver(conversationId: string, p: Pending) {
    try {
      const m = await api.sendMessage(conversationId, p.content, p.clientToken);
      if (this.stopped) return;
      this.setOutbox(conversationId, outbox.settle(this.outboxFor(conversationId), p.clientToken, m));
      const t = this.state.thread;
      if (t && t.conversationId === conversationId) this.addMessages(t, [m]);
      this.bumpConversation(m);
    } catch (e) {
      if (this.stopped) return;
      this.setOutbox(conversationId, outbox.fail(this.outboxFor(conversationId), p.clientToken, describeError(e)));
    }
  }

  retrySend(clientToken: string) {
    const t = this.state.thread;
    const p = t?.pending.find((x) => x.clientToken === clientToken);
    if (!t || !p || p.status !== 'failed') return;
    this.setOutbox(t.conversationId, outbox.retry(this.outboxFor(t.conversationId), clientToken));
    void this.deliver(t.conversationId, p);
  }

  discardPending(clientToken: string) {
    const t = this.state.thread;
    if (!t) return;
    this.setOutbox(t.conversationId, outbox.discard(this.outboxFor(t.conversationId), clientToken));
  }

  async deleteMessage(m: Message) {
    const t = this.state.thread;
    if (!t) return;
    try {
      await api.deleteMessage(m.conversationId, m.messageId);
      this.removeMessage(t, m.messageId);
    } catch (e) {
      this.setNotice(`Could not delete the message: ${describeError(e)}`);
    }
  }

  setNotice(text: string | null) {
    this.state.notice = text;
    this.changed();
  }

  // ---- read marks ----

  private scheduleMarkRead() {
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => void this.markRead(), 300);
  }

  private async markRead() {
    const t = this.state.thread;
    if (!t || t.loading || document.visibilityState !== 'visible' || this.stopped) return;
    const id = t.conversationId;
    const seq = t.lastSeq;
    const c = this.state.conversations.get(id);
    if (c && c.unreadCount) {
      c.unreadCount = 0;
      this.changed();
    }
    if (seq <= 0 || seq <= (this.readSent.get(id) ?? 0)) return;
    this.readSent.set(id, seq);
    try {
      await api.markConversationRead(id, seq);
    } catch {
      this.readSent.delete(id);
    }
  }

  // ---- search ----

  openSearch() {
    if (!this.state.search) this.state.search = { term: '', loading: false, results: null, error: null };
    this.changed();
  }

  closeSearch() {
    this.state.search = null;
    this.changed();
  }

  async search(term: string) {
    const t = this.state.thread;
    if (!t) return;
    const s: SearchState = { term, loading: true, results: null, error: null };
    this.state.search = s;
    this.changed();
    try {
      s.results = await api.searchMessages(t.conversationId, term.trim());
    } catch (e) {
      s.error = describeError(e);
    } finally {
      s.loading = false;
      this.changed();
    }
  }

  /** Loads older pages until the message is there, then highlights it. */
  async jumpTo(seq: number) {
    const t = this.state.thread;
    if (!t) return;
    for (let pages = 0; pages < 100 && this.isOpen(t); pages++) {
      if (t.messages.length && t.messages[0].seq <= seq) break;
      if (!t.nextToken) break;
      await this.loadOlder();
      if (t.olderError) break;
    }
    if (!this.isOpen(t)) return;
    t.highlightSeq = seq;
    this.changed();
  }
}
