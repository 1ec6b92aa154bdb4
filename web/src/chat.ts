// The signed-in app's state and everything that changes it. Components read
// `chat.state` and re-render when it changes (see useChat in ui/hooks.ts).
//
// Chat is the one facade: it talks to the server (api, realtime) and stores
// what comes back. How things merge is decided by pure functions, one module
// per concern, unit-tested on their own (test/unit):
//   chat/conversations.ts  the list: merging updates, order, previews
//   chat/timeline.ts       the open conversation's messages, by seq
//   chat/outbox.ts         own sends until their answer
//   chat/presence.ts       users, and which conversations' presence to follow
//   chat/readmarks.ts      when to send markConversationRead
//   chat/search.ts         search terms and results
// and chat/live.ts holds the subscriptions.

import { api, ApiError, describeError, type Conversation, type Message, type User } from './api';
import { Realtime, type GraphQLError } from './realtime';
import { byActivity, bumpConversation, mergeConversation, nextListToken, unreadElsewhere } from './chat/conversations';
import { followConversations, followThread, PresenceSubscriptions } from './chat/live';
import { Outboxes } from './chat/outbox';
import { mergeUser, presenceTargets } from './chat/presence';
import { ReadMarks } from './chat/readmarks';
import { newSearch, searchTermProblem, withoutResult } from './chat/search';
import { initialState, type State, type Thread } from './chat/state';
import { highestSeq, mergeMessages, newThread, reconcileWithPage, withoutMessage } from './chat/timeline';

export type { Pending } from './chat/outbox';
export type { SearchState, State, Thread } from './chat/state';
export { activityTime } from './chat/conversations';

/** Messages per page of history. */
const pageSize = 30;
/** Users asked for in one request (aliased getUser fields). */
const usersPerRequest = 50;
/** Known users refreshed after a reconnect, at most. */
const usersRefreshed = 200;
/** Least time between two reloads of a thread whose stream could not resume, in ms. */
const resumeReloadGapMs = 5_000;
const notMember = 'This conversation does not exist, or you are not in it.';

export class Chat {
  state: State;
  private listeners = new Set<() => void>();
  private notifyQueued = false;
  private rt: Realtime;
  /** Stops the open thread's subscriptions, while it has some. */
  private threadStop: (() => void) | null = null;
  private presence: PresenceSubscriptions;
  private outboxes: Outboxes;
  private userFetches = new Set<string>();
  private readMarks = new ReadMarks(() => void this.markRead());
  private lastResumeReload = 0;
  private stopped = false;
  private cleanup: (() => void)[] = [];

  constructor(userId: string) {
    this.state = initialState(userId, navigator.onLine);
    this.rt = new Realtime({
      onState: (s) => {
        this.state.conn = s;
        this.changed();
      },
      onReconnected: () => void this.reconcile(),
    });
    this.presence = new PresenceSubscriptions(this.rt, (u) => this.mergeUsers([u]));
    this.outboxes = new Outboxes({
      send: (id, p) => api.sendMessage(id, p.content, p.clientToken),
      answered: (m) => {
        const t = this.state.thread;
        if (t && t.conversationId === m.conversationId) this.addMessages(t, [m]);
        this.bump(m);
      },
      changed: (id) => {
        const t = this.state.thread;
        if (t && t.conversationId === id) t.pending = this.outboxes.visible(id);
        this.changed();
      },
      describe: describeError,
    });
    const online = () => {
      this.state.online = navigator.onLine;
      this.changed();
    };
    const visible = () => {
      if (document.visibilityState === 'visible') this.readMarks.schedule();
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
      const unread = unreadElsewhere(this.state.conversations.values(), this.state.openId);
      document.title = unread > 0 ? `(${unread}) confab` : 'confab';
      for (const l of [...this.listeners]) l();
    });
  }

  // ---- lifecycle ----

  start() {
    followConversations(this.rt, this.state.userId, (c) => this.upsertConversation(c));
    void this.loadMe();
    void this.loadConversations();
  }

  stop() {
    this.stopped = true;
    this.stopThread();
    this.presence.stop();
    this.outboxes.close();
    this.cleanup.forEach((f) => f());
    this.readMarks.stop();
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

  /** After a reconnect: refresh what has no resume (the list, presence,
   *  deletions). New messages come through the resumed subscription. */
  private async reconcile() {
    void this.loadMe();
    void this.loadConversations();
    const ids = [...this.state.users.keys()].slice(0, usersRefreshed);
    try {
      for (let i = 0; i < ids.length; i += usersPerRequest) this.mergeUsers(await api.getUsers(ids.slice(i, i + usersPerRequest)));
    } catch {
      /* best effort */
    }
    const t = this.state.thread;
    if (!t || t.loading || !t.messages.length) return;
    try {
      const page = await api.listMessages(t.conversationId, null, pageSize);
      if (!this.isOpen(t) || !page.items.length) return;
      t.messages = reconcileWithPage(t.messages, page.items);
      t.lastSeq = highestSeq(t.lastSeq, page.items);
      this.changed();
    } catch {
      /* best effort */
    }
  }

  // ---- users and presence ----

  userName(userId: string): string {
    const u = this.state.users.get(userId);
    return u ? u.displayName || u.username : '…';
  }

  private mergeUsers(users: User[]) {
    for (const u of users) {
      this.state.users.set(u.userId, mergeUser(this.state.users.get(u.userId), u));
      if (u.userId === this.state.userId) this.state.me = { ...this.state.me, ...u };
    }
    this.changed();
  }

  /** Reads these users again, cached or not. */
  async refreshUsers(ids: string[]) {
    try {
      for (let i = 0; i < ids.length; i += usersPerRequest) {
        this.mergeUsers(await api.getUsers(ids.slice(i, i + usersPerRequest)));
      }
    } catch {
      /* presence catches up with the next presence event or reconcile */
    }
  }

  async ensureUsers(ids: Iterable<string>) {
    const missing = [...new Set(ids)].filter((id) => !this.state.users.has(id) && !this.userFetches.has(id));
    if (!missing.length) return;
    missing.forEach((id) => this.userFetches.add(id));
    try {
      for (let i = 0; i < missing.length; i += usersPerRequest) {
        this.mergeUsers(await api.getUsers(missing.slice(i, i + usersPerRequest)));
      }
    } catch {
      /* names show as "…" until the next reconcile */
    } finally {
      missing.forEach((id) => this.userFetches.delete(id));
    }
  }

  private followPresence() {
    this.presence.follow(presenceTargets(this.state.conversations, this.state.openId));
  }

  async findUser(q: string): Promise<User | null> {
    const u = await api.findUser(q.trim());
    if (u) this.mergeUsers([u]);
    return u;
  }

  // ---- conversations ----

  sortedConversations(): Conversation[] {
    return byActivity(this.state.conversations.values());
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
      s.convsNextToken = nextListToken(more, s.convsNextToken, page.nextToken);
      void this.ensureUsers(page.items.flatMap((c) => c.participants));
      this.followPresence();
    } catch (e) {
      s.convsError = describeError(e);
    } finally {
      s.convsLoading = false;
      this.changed();
    }
  }

  private upsertConversation(c: Conversation, sync = true) {
    const s = this.state;
    const next = mergeConversation(s.conversations.get(c.conversationId), c);
    if (c.conversationId === s.openId && document.visibilityState === 'visible') {
      next.unreadCount = 0;
      this.readMarks.schedule();
    }
    s.conversations.set(c.conversationId, next);
    if (sync) {
      void this.ensureUsers(c.participants);
      this.followPresence();
    }
    this.changed();
  }

  /** The list preview follows a message we know of before the server's update does. */
  private bump(m: Message) {
    const c = this.state.conversations.get(m.conversationId);
    const next = c && bumpConversation(c, m);
    if (!next) return;
    this.state.conversations.set(m.conversationId, next);
    this.changed();
  }

  async createConversation(name: string, participants: string[]): Promise<Conversation> {
    const c = await api.createConversation(name.trim() || null, participants);
    this.upsertConversation(c);
    // Presence is shown only to people who share a conversation, so what
    // findUser showed of the participants (a stranger's view: offline) is
    // read again now that they do.
    void this.refreshUsers(c.participants.filter((id) => id !== this.state.userId));
    return c;
  }

  // ---- the open conversation ----

  openConversation(id: string | null) {
    const s = this.state;
    if (s.openId === id) return;
    this.stopThread();
    s.openId = id;
    s.openError = null;
    s.search = null;
    s.thread = null;
    this.changed();
    if (!id) return;
    const t = newThread(id);
    t.pending = this.outboxes.visible(id);
    s.thread = t;
    this.followPresence();
    void this.loadThread(t);
  }

  private stopThread() {
    this.threadStop?.();
    this.threadStop = null;
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
          this.state.openError = notMember;
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
      if (!page.items.length) t.lastSeq = Math.max(t.lastSeq, knownLastSeq);
      t.loading = false;
      this.changed();
      this.subscribeThread(t);
      this.readMarks.schedule();
    } catch (e) {
      if (!this.isOpen(t)) return;
      t.loading = false;
      if (e instanceof ApiError && e.code === 'NOT_FOUND') this.state.openError = notMember;
      else t.error = describeError(e);
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
    this.stopThread();
    this.threadStop = followThread(this.rt, id, () => t.lastSeq, {
      message: (m) => {
        if (!this.isOpen(t)) return;
        // Our own message may come back before its send answered.
        const known = t.messages.some((x) => x.seq === m.seq);
        if (!known && m.userId === this.state.userId) this.outboxes.noteEarly(id, m);
        this.addMessages(t, [m]);
        this.bump(m);
        this.readMarks.schedule();
      },
      deleted: (messageId) => this.removeMessage(t, messageId),
      error: (errs) => this.onResumeError(t, errs),
    });
  }

  /** The message stream ended with an error, e.g. too far behind to resume:
   *  start again from the newest page. */
  private onResumeError(t: Thread, errs: readonly GraphQLError[]) {
    if (!this.isOpen(t)) return;
    const code = errs[0]?.extensions?.code;
    if (code === 'NOT_FOUND' || code === 'FORBIDDEN') {
      this.state.openError = notMember;
      this.changed();
      return;
    }
    const wait = Math.max(0, this.lastResumeReload + resumeReloadGapMs - Date.now());
    setTimeout(() => {
      if (!this.isOpen(t)) return;
      this.lastResumeReload = Date.now();
      this.stopThread();
      t.messages = [];
      t.lastSeq = 0;
      t.loading = true;
      this.changed();
      void this.loadThread(t);
    }, wait);
  }

  private addMessages(t: Thread, msgs: Message[]) {
    if (!msgs.length) return;
    t.messages = mergeMessages(t.messages, msgs);
    t.lastSeq = highestSeq(t.lastSeq, msgs);
    this.changed();
  }

  private removeMessage(t: Thread, messageId: string) {
    t.messages = withoutMessage(t.messages, messageId);
    const s = this.state.search;
    if (s) s.results = withoutResult(s.results, messageId);
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
    if (t && content.trim()) this.outboxes.send(t.conversationId, content);
  }

  retrySend(clientToken: string) {
    const t = this.state.thread;
    if (t) this.outboxes.retry(t.conversationId, clientToken);
  }

  discardPending(clientToken: string) {
    const t = this.state.thread;
    if (t) this.outboxes.discard(t.conversationId, clientToken);
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

  private async markRead() {
    const t = this.state.thread;
    if (!t || t.loading || document.visibilityState !== 'visible' || this.stopped) return;
    const id = t.conversationId;
    const c = this.state.conversations.get(id);
    if (c && c.unreadCount) {
      this.state.conversations.set(id, { ...c, unreadCount: 0 });
      this.changed();
    }
    await this.readMarks.send(id, t.lastSeq, (conversationId, seq) => api.markConversationRead(conversationId, seq));
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
    const s = newSearch(term);
    this.state.search = s;
    this.changed();
    try {
      const problem = searchTermProblem(term.trim());
      if (problem) s.error = problem;
      else s.results = await api.searchMessages(t.conversationId, term.trim());
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
