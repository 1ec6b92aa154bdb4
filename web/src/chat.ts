// The signed-in app's state and everything that changes it. Components read
// `chat.state` and re-render when it changes (see useChat in ui/hooks.ts).
//
// Chat is the one facade: it talks to the server (api, realtime) and stores
// what comes back. How things merge is decided by pure functions, one module
// per concern, unit-tested on their own (test/unit):
//   chat/conversations.ts  the list: merging updates, order, previews
//   chat/timeline.ts       the open conversation's messages, by seq
//   chat/changes.ts        the change log folded into what is shown
//   chat/outbox.ts         own sends until their answer
//   chat/presence.ts       users, and which conversations' presence to follow
//   chat/readmarks.ts      when to send markConversationRead
//   chat/receipts.ts       the other members' read marks, as ticks and avatars
//   chat/typing.ts         who is typing, and when to say we are
//   chat/mentions.ts       @mention completion and detection
//   chat/reactions.ts      reaction toggles
//   chat/search.ts         search terms and results
//   chat/members.ts        roles, what they allow, membership changes
// and chat/live.ts holds the subscriptions.

import {
  api,
  ApiError,
  describeError,
  type Conversation,
  type AddPolicy,
  type ConversationChange,
  type ConversationSettings,
  type Invitation,
  type Message,
  type MessageEdit,
  type ReadMark,
  type Role,
  type TypingEvent,
  type User,
} from './api';
import { Realtime, type GraphQLError } from './realtime';
import { applyMessages, changedConversations, changedMessages, lastChange, sentMessages } from './chat/changes';
import { byActivity, bumpConversation, mergeConversation, nextListToken, unreadElsewhere } from './chat/conversations';
import { followConversations, followInvitations, followThread, PresenceSubscriptions } from './chat/live';
import { mergeMembers, removedFrom, until, withInvitation, withMemberChange, type Actor } from './chat/members';
import { mentionsIn } from './chat/mentions';
import { Outboxes } from './chat/outbox';
import { mergeUser, presenceTargets } from './chat/presence';
import { togglesOn, withReaction } from './chat/reactions';
import { ReadMarks, readMarkDelayMs } from './chat/readmarks';
import { mergeReadMark } from './chat/receipts';
import { newSearch, searchTermProblem, withEdited, withoutResult } from './chat/search';
import { initialState, type MembersState, type ReplyThread, type SearchAllState, type State, type Thread } from './chat/state';
import { applyTyping, nextExpiry, TypingSender } from './chat/typing';
import { highestSeq, inTimeline, newThread, newerCopy, withinLoaded } from './chat/timeline';

export type { Pending } from './chat/outbox';
export type { MembersState, ReplyThread, SearchAllState, SearchState, State, Thread } from './chat/state';
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
  private typingSender: TypingSender | null = null;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private threadMarkTimer: ReturnType<typeof setTimeout> | undefined;
  /** Per thread root, the highest seq sent with markThreadRead. */
  private threadMarks = new Map<string, number>();
  /** A message to show once its conversation has opened (a search hit). */
  private jump: { conversationId: string; message: Message } | null = null;
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
      send: (id, p) => api.sendMessage(id, p.content, p.clientToken, p),
      answered: (m) => {
        this.applyMessages([m]);
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
    followInvitations(this.rt, this.state.userId, (i) => this.addInvitation(i));
    void this.loadMe();
    void this.loadConversations();
    void this.loadInvitations();
    void this.loadBlocked().catch(() => {});
  }

  stop() {
    this.stopped = true;
    this.stopThread();
    clearTimeout(this.threadMarkTimer);
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
   *  read marks, typing). What changed in the open conversation meanwhile
   *  (sends, edits, deletions, reactions, replies) comes from its change
   *  log: the resubscribed onConversationChanged replays it. */
  private async reconcile() {
    void this.loadMe();
    void this.loadConversations();
    void this.loadInvitations();
    this.state.typists = new Map();
    const t = this.state.thread;
    if (t && !t.loading) void this.loadReadMarks(t);
    const ids = [...this.state.users.keys()].slice(0, usersRefreshed);
    try {
      for (let i = 0; i < ids.length; i += usersPerRequest) this.mergeUsers(await api.getUsers(ids.slice(i, i + usersPerRequest)));
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

  /** The members of a conversation whose profiles are known (for mentions). */
  members(conversationId: string): User[] {
    const c = this.state.conversations.get(conversationId);
    return (c?.participants ?? []).flatMap((id) => this.state.users.get(id) ?? []);
  }

  async findUser(q: string): Promise<User | null> {
    const u = await api.findUser(q.trim());
    if (u) this.mergeUsers([u]);
    return u;
  }

  /** Hides (or shares again) our read receipts; false (and a notice) on failure. */
  async setHideReadReceipts(hide: boolean): Promise<boolean> {
    try {
      const me = await api.setHideReadReceipts(this.state.userId, hide);
      if (me) this.mergeUsers([me]);
      return true;
    } catch (e) {
      this.setNotice(`Could not change the setting: ${describeError(e)}`);
      return false;
    }
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
    if (removedFrom(c, s.userId)) {
      this.removeConversation(c.conversationId, c);
      return;
    }
    s.gone.delete(c.conversationId);
    const next = mergeConversation(s.conversations.get(c.conversationId), c);
    if (c.conversationId === s.openId && document.visibilityState === 'visible') {
      next.unreadCount = 0;
      next.unreadMentions = 0;
      this.readMarks.schedule();
    }
    s.conversations.set(c.conversationId, next);
    if (sync) {
      void this.ensureUsers(c.participants);
      this.followPresence();
    }
    this.changed();
  }

  /** The caller is no longer a member of the conversation (left, removed,
   *  banned, or it was deleted): it leaves the list, and its view closes
   *  with a notice (the UI navigates away from what is in gone). */
  removeConversation(id: string, last?: Conversation) {
    const s = this.state;
    if (s.gone.has(id)) return; // told already (e.g. the list's update came before leave's answer)
    const known = s.conversations.get(id) ?? last;
    const was = s.conversations.delete(id);
    if (s.openId === id) {
      this.stopThread();
      s.thread = null;
      s.replies = null;
      s.search = null;
      s.members = null;
      s.gone.add(id);
      const name = known?.name ? `“${known.name}”` : 'this conversation';
      this.setNotice(`You are no longer a member of ${name}.`);
    } else if (was) {
      s.gone.add(id);
    }
    this.followPresence();
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
    s.replies = null;
    s.typists = new Map();
    s.readMarks = new Map();
    s.members = null;
    s.mutedUntil = null;
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
    this.typingSender?.stop();
    this.typingSender = null;
    clearTimeout(this.typingTimer);
  }

  private isOpen(t: Thread): boolean {
    return !this.stopped && this.state.thread === t;
  }

  private async loadThread(t: Thread) {
    const id = t.conversationId;
    try {
      // The change log position is read before the page: a change made in
      // between is replayed by the subscription, and replays are harmless
      // (the copy with the higher changeSeq wins).
      const conv = await api.getConversation(id);
      if (!this.isOpen(t)) return;
      if (!conv) {
        this.state.conversations.delete(id);
        this.state.openError = notMember;
        t.loading = false;
        this.changed();
        return;
      }
      this.upsertConversation(conv);
      const page = await api.listMessages(id, null, pageSize);
      if (!this.isOpen(t)) return;
      t.nextToken = page.nextToken;
      this.addMessages(t, page.items);
      t.lastSeq = Math.max(t.lastSeq, conv.lastSeq);
      t.lastChangeSeq = conv.lastChangeSeq;
      t.loading = false;
      this.changed();
      this.subscribeThread(t);
      this.readMarks.schedule();
      void this.loadReadMarks(t);
      void this.ensureUsers(page.items.flatMap((m) => m.replyUserIds ?? []));
      this.jumpIfAsked(t);
    } catch (e) {
      if (!this.isOpen(t)) return;
      t.loading = false;
      if (e instanceof ApiError && e.code === 'NOT_FOUND') {
        this.state.conversations.delete(id);
        this.state.openError = notMember;
      } else t.error = describeError(e);
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
    this.typingSender = new TypingSender((typing) => void api.setTyping(id, typing).catch(() => {}));
    this.threadStop = followThread(this.rt, id, () => t.lastChangeSeq, {
      change: (c) => this.onChanges(t, [c]),
      error: (errs) => this.onResumeError(t, errs),
      typing: (ev) => this.onTyping(t, ev),
      readMark: (mark) => this.onReadMark(t, mark),
    });
  }

  /** Folds changes of the open conversation's log into what is shown. */
  private onChanges(t: Thread, changes: ConversationChange[]) {
    if (!this.isOpen(t)) return;
    const seen = new Set(t.messages.map((m) => m.messageId));
    for (const m of sentMessages(changes)) {
      // Our own message may come back before its send answered.
      if (m.userId === this.state.userId && !seen.has(m.messageId)) this.outboxes.noteEarly(t.conversationId, m);
      this.bump(m);
    }
    this.applyMessages(changedMessages(changes));
    changedConversations(changes).forEach((c) => this.upsertConversation(c));
    t.lastChangeSeq = lastChange(t.lastChangeSeq, changes);
    for (const c of changes) this.onMemberChange(t, c);
    if (!this.isOpen(t)) return;
    this.readMarks.schedule();
    this.scheduleThreadMark();
    void this.ensureUsers(changes.map((c) => c.userId));
  }

  /** A MEMBER_* change of the open conversation: the list entry, the members
   *  panel and the caller's own role and mute follow it; the caller's own
   *  removal closes the conversation. */
  private onMemberChange(t: Thread, c: ConversationChange) {
    const s = this.state;
    const id = t.conversationId;
    const conv = s.conversations.get(id);
    if (!c.memberId || !conv) return;
    if (c.kind === 'MEMBER_REMOVED' && c.memberId === s.userId) {
      this.removeConversation(id);
      return;
    }
    const next = withMemberChange(conv, c, s.userId);
    if (next) s.conversations.set(id, next);
    if (c.memberId === s.userId && c.member) s.mutedUntil = c.member.mutedUntil ?? null;
    const ms = s.members;
    if (ms && ms.conversationId === id) {
      if (c.kind === 'MEMBER_REMOVED') ms.items = ms.items.filter((m) => m.userId !== c.memberId);
      else if (c.member) {
        const old = ms.items.find((m) => m.userId === c.memberId);
        ms.items = mergeMembers(ms.items, [{ ...old, ...c.member }]);
      }
    }
    if (c.kind === 'MEMBER_ADDED') void this.ensureUsers([c.memberId]);
    this.changed();
  }

  /** Applies copies of messages (from the change log, or answers to our own
   *  mutations) wherever they show: the timeline, the reply thread, search
   *  results. The copy with the higher changeSeq wins; a tombstone removes. */
  private applyMessages(msgs: Message[]) {
    const s = this.state;
    const t = s.thread;
    const mine = t ? msgs.filter((m) => m.conversationId === t.conversationId) : [];
    if (t && mine.length) {
      Object.assign(t, applyMessages(t, mine, (m) => inTimeline(m) && withinLoaded(t, m)));
      t.lastSeq = highestSeq(t.lastSeq, mine.filter((m) => !m.deletedAt));
    }
    const r = s.replies;
    if (r) {
      for (const m of msgs) {
        if (m.messageId !== r.rootId || !r.root) continue;
        r.root = m.deletedAt ? { ...r.root, deletedAt: m.deletedAt } : newerCopy(r.root, m);
      }
      Object.assign(r, applyMessages(r, msgs, (m) => m.parentMessageId === r.rootId && withinLoaded(r, m)));
    }
    if (s.search) {
      for (const m of msgs) s.search.results = m.deletedAt ? withoutResult(s.search.results, m.messageId) : withEdited(s.search.results, m);
    }
    this.changed();
  }

  /** The message stream ended with an error, e.g. too far behind to resume:
   *  start again from the newest page. */
  private onResumeError(t: Thread, errs: readonly GraphQLError[]) {
    if (!this.isOpen(t)) return;
    const code = errs[0]?.extensions?.code;
    if (code === 'NOT_FOUND') {
      // removed (or banned) while watching: every stream of ours ends so
      this.removeConversation(t.conversationId);
      return;
    }
    if (code === 'FORBIDDEN') {
      this.state.openError = notMember;
      this.changed();
      return;
    }
    const wait = Math.max(0, this.lastResumeReload + resumeReloadGapMs - Date.now());
    setTimeout(() => {
      if (!this.isOpen(t)) return;
      this.lastResumeReload = Date.now();
      this.stopThread();
      Object.assign(t, newThread(t.conversationId), { pending: t.pending });
      this.changed();
      void this.loadThread(t);
    }, wait);
  }

  /** Adds a page of the timeline (all of it belongs: it was asked for). */
  private addMessages(t: Thread, msgs: Message[]) {
    if (!msgs.length) return;
    Object.assign(t, applyMessages(t, msgs, () => true));
    t.lastSeq = highestSeq(t.lastSeq, msgs);
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
      t.nextToken = page.nextToken;
      this.addMessages(t, page.items);
    } catch (e) {
      t.olderError = describeError(e);
    } finally {
      t.loadingOlder = false;
      this.changed();
    }
  }

  // ---- sending and deleting ----

  /** Sends content to the open conversation, or as a reply in the open
   *  reply thread (parentMessageId; alsoInConversation shows it in the
   *  timeline too), with the members it @mentions. */
  send(content: string, parentMessageId?: string, alsoInConversation = false) {
    const t = this.state.thread;
    if (!t || !content.trim()) return;
    const mentions = mentionsIn(content, this.members(t.conversationId));
    this.outboxes.send(t.conversationId, content, { parentMessageId, alsoInConversation, mentions });
    this.typingSender?.stop();
  }

  /** The composer's draft changed: tells the others we are typing (or stopped). */
  draftChanged(text: string) {
    this.typingSender?.input(text);
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
      const gone = await api.deleteMessage(m.conversationId, m.messageId);
      this.applyMessages([{ ...(gone ?? m), deletedAt: gone?.deletedAt ?? new Date().toISOString() }]);
    } catch (e) {
      this.setNotice(`Could not delete the message: ${describeError(e)}`);
    }
  }

  /** Replaces the content of an own message; false (and a notice) on failure. */
  async editMessage(m: Message, content: string): Promise<boolean> {
    try {
      const edited = await api.editMessage(m.conversationId, m.messageId, content);
      if (edited) this.applyMessages([edited]);
      return true;
    } catch (e) {
      this.setNotice(`Could not edit the message: ${describeError(e)}`);
      return false;
    }
  }

  /** The earlier versions of a message, newest first. */
  messageEdits(m: Message): Promise<MessageEdit[]> {
    return api.messageEdits(m.conversationId, m.messageId);
  }

  /** Adds our reaction key to m, or takes it back if we had it. Shown at
   *  once; the server's answer (a higher changeSeq) then replaces it. */
  async toggleReaction(m: Message, key: string) {
    const add = togglesOn(m, key);
    this.applyMessages([withReaction(m, key, add, this.state.userId)]);
    try {
      const after = await api.react(m.conversationId, m.messageId, key, add);
      if (after) this.applyMessages([after]);
    } catch (e) {
      this.applyMessages([m]);
      this.setNotice(`Could not ${add ? 'add' : 'remove'} the reaction: ${describeError(e)}`);
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
    if (c && (c.unreadCount || c.unreadMentions)) {
      this.state.conversations.set(id, { ...c, unreadCount: 0, unreadMentions: 0 });
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

  // ---- typing and read receipts ----

  private onTyping(t: Thread, ev: TypingEvent) {
    if (!this.isOpen(t) || ev.userId === this.state.userId) return;
    this.state.typists = applyTyping(this.state.typists, ev, Date.now());
    void this.ensureUsers([ev.userId]);
    this.scheduleTypingExpiry();
    this.changed();
  }

  /** Re-renders when the next typist runs out (no event may say so). */
  private scheduleTypingExpiry() {
    clearTimeout(this.typingTimer);
    const next = nextExpiry(this.state.typists, Date.now());
    if (next === null) return;
    this.typingTimer = setTimeout(() => {
      this.changed();
      this.scheduleTypingExpiry();
    }, next - Date.now() + 50);
  }

  private onReadMark(t: Thread, mark: ReadMark) {
    if (!this.isOpen(t) || mark.conversationId !== t.conversationId) return;
    this.state.readMarks = mergeReadMark(this.state.readMarks, mark);
    this.changed();
  }

  /** Reads the other members' read marks (when opening, and after a
   *  reconnect: receipts are not replayed). */
  private async loadReadMarks(t: Thread) {
    try {
      const marks = await api.readBy(t.conversationId);
      if (!this.isOpen(t)) return;
      for (const m of marks) this.state.readMarks = mergeReadMark(this.state.readMarks, m);
      void this.ensureUsers(marks.map((m) => m.userId));
      this.changed();
    } catch {
      /* ticks stay as they are until the next receipt */
    }
  }

  // ---- reply threads ----

  /** Opens the reply thread of the root with this id beside the open conversation. */
  openReplies(rootId: string) {
    const t = this.state.thread;
    if (!t) return;
    if (this.state.replies?.rootId === rootId) return;
    const root = t.messages.find((m) => m.messageId === rootId) ?? null;
    const r: ReplyThread = {
      conversationId: t.conversationId,
      rootId,
      root,
      messages: [],
      deleted: new Set(),
      nextToken: null,
      loading: true,
      loadingOlder: false,
      error: null,
    };
    this.state.replies = r;
    this.changed();
    void this.loadReplies(r, false);
  }

  closeReplies() {
    this.state.replies = null;
    this.changed();
  }

  /** Loads the newest replies, or (older) the page before those shown. */
  async loadReplies(r: ReplyThread, older: boolean) {
    if (older && (!r.nextToken || r.loadingOlder)) return;
    if (older) r.loadingOlder = true;
    r.error = null;
    this.changed();
    try {
      const [root, page] = await Promise.all([
        r.root && older ? Promise.resolve(r.root) : api.getMessage(r.conversationId, r.rootId),
        api.listThread(r.conversationId, r.rootId, older ? r.nextToken : null),
      ]);
      if (this.state.replies !== r) return;
      if (!root) {
        r.error = 'This message was deleted.';
        return;
      }
      r.root = r.root ? newerCopy(r.root, root) : root;
      r.nextToken = page.nextToken;
      Object.assign(r, applyMessages(r, page.items, () => true));
      void this.ensureUsers(page.items.map((m) => m.userId));
      this.scheduleThreadMark();
    } catch (e) {
      if (this.state.replies === r) r.error = describeError(e);
    } finally {
      r.loading = false;
      r.loadingOlder = false;
      this.changed();
    }
  }

  /** Marks the open reply thread read up to its newest reply, a moment
   *  after it changed, while the page is visible; the answer (the root,
   *  unreadReplies 0) updates the root everywhere. */
  private scheduleThreadMark() {
    clearTimeout(this.threadMarkTimer);
    this.threadMarkTimer = setTimeout(() => void this.markThreadRead(), readMarkDelayMs);
  }

  private async markThreadRead() {
    const r = this.state.replies;
    if (!r || r.loading || this.stopped || document.visibilityState !== 'visible') return;
    const seq = highestSeq(0, r.messages);
    if (seq <= (this.threadMarks.get(r.rootId) ?? 0)) return;
    this.threadMarks.set(r.rootId, seq);
    try {
      const root = await api.markThreadRead(r.conversationId, r.rootId, seq);
      if (root) this.applyMessages([root]);
    } catch {
      if (this.threadMarks.get(r.rootId) === seq) this.threadMarks.delete(r.rootId);
    }
  }

  // ---- search across conversations ----

  openSearchAll() {
    if (!this.state.searchAll) this.state.searchAll = { term: '', loading: false, results: null, nextToken: null, error: null };
    this.changed();
  }

  closeSearchAll() {
    this.state.searchAll = null;
    this.changed();
  }

  /** Searches every conversation of the caller (more: the next page). */
  async searchAll(term: string, more = false) {
    const prev = this.state.searchAll;
    const s: SearchAllState = more && prev ? prev : { term: term.trim(), loading: true, results: null, nextToken: null, error: null };
    s.loading = true;
    this.state.searchAll = s;
    this.changed();
    try {
      const problem = searchTermProblem(s.term);
      if (problem) s.error = problem;
      else {
        const page = await api.searchAllMessages(s.term, more ? s.nextToken : null);
        s.results = [...(more ? s.results ?? [] : []), ...page.items];
        s.nextToken = page.nextToken;
        void this.ensureUsers(page.items.flatMap((h) => [h.message.userId, ...h.conversation.participants]));
      }
    } catch (e) {
      s.error = describeError(e);
    } finally {
      s.loading = false;
      this.changed();
    }
  }

  /** Shows a search hit: its conversation opens (the caller navigates),
   *  then the message is highlighted, or its reply thread opened. */
  showHit(m: Message) {
    this.jump = { conversationId: m.conversationId, message: m };
    const t = this.state.thread;
    if (t && t.conversationId === m.conversationId && !t.loading) this.jumpIfAsked(t);
  }

  private jumpIfAsked(t: Thread) {
    const j = this.jump;
    if (!j || j.conversationId !== t.conversationId) return;
    this.jump = null;
    if (inTimeline(j.message)) void this.jumpTo(j.message.seq);
    else if (j.message.parentMessageId) this.openReplies(j.message.parentMessageId);
  }

  // ---- membership, consent and moderation (issue 15) ----

  /** The caller as the rules of chat/members see them, in conversation id. */
  actor(conversationId: string): Actor {
    const s = this.state;
    return { userId: s.userId, role: s.conversations.get(conversationId)?.myRole, serverAdmin: !!s.me?.isAdmin };
  }

  /** Loads the open conversation's members (more: the next page). */
  async loadMembers(more = false) {
    const t = this.state.thread;
    if (!t) return;
    const prev = this.state.members;
    const ms: MembersState =
      prev && prev.conversationId === t.conversationId ? prev : { conversationId: t.conversationId, items: [], nextToken: null, loading: false, error: null };
    this.state.members = ms;
    if (ms.loading || (more && !ms.nextToken)) return;
    ms.loading = true;
    ms.error = null;
    this.changed();
    try {
      const page = await api.members(ms.conversationId, more ? ms.nextToken : null);
      // a reload starts again from the first page (what changed since came through the change log)
      ms.items = mergeMembers(more ? ms.items : [], page.items);
      ms.nextToken = page.nextToken;
      this.mergeUsers(page.items.flatMap((m) => m.user ?? []));
      const mine = page.items.find((m) => m.userId === this.state.userId);
      if (mine && this.state.members === ms) this.state.mutedUntil = mine.mutedUntil ?? null;
    } catch (e) {
      ms.error = describeError(e);
    } finally {
      ms.loading = false;
      this.changed();
    }
  }

  /** Stores a conversation a membership mutation answered, and reads the
   *  first page of members again (the change log also brings each change). */
  private afterMembership(c: Conversation) {
    this.upsertConversation(c);
    if (this.state.members?.conversationId === c.conversationId) void this.loadMembers();
  }

  /** Adds users; answers who joined and who was sent an invitation instead. */
  async addMembers(conversationId: string, userIds: string[], role?: Role): Promise<{ added: string[]; invited: string[] }> {
    const r = await api.addMembers(conversationId, userIds, role);
    this.afterMembership(r.conversation);
    void this.refreshUsers(r.added);
    return { added: r.added, invited: r.invited };
  }

  async removeMember(conversationId: string, userId: string, reason?: string) {
    this.afterMembership(await api.removeMember(conversationId, userId, reason));
  }

  async setMemberRole(conversationId: string, userId: string, role: Role) {
    this.afterMembership(await api.setMemberRole(conversationId, userId, role));
  }

  async transferOwnership(conversationId: string, userId: string) {
    this.afterMembership(await api.transferOwnership(conversationId, userId));
  }

  /** Mutes a member for minutes from now. */
  async muteMember(conversationId: string, userId: string, minutes: number, reason?: string) {
    this.afterMembership(await api.muteMember(conversationId, userId, until(Date.now(), minutes)!, reason));
  }

  async unmuteMember(conversationId: string, userId: string) {
    this.afterMembership(await api.unmuteMember(conversationId, userId));
  }

  /** Bans a member for minutes from now (0: for good); they are removed. */
  async banMember(conversationId: string, userId: string, minutes: number, reason?: string) {
    await api.banMember(conversationId, userId, until(Date.now(), minutes), reason);
    const ms = this.state.members;
    if (ms?.conversationId === conversationId) ms.items = ms.items.filter((m) => m.userId !== userId);
    const c = this.state.conversations.get(conversationId);
    if (c) this.state.conversations.set(conversationId, { ...c, participants: c.participants.filter((p) => p !== userId) });
    this.changed();
  }

  async updateSettings(conversationId: string, input: Partial<ConversationSettings>) {
    this.upsertConversation(await api.updateConversationSettings(conversationId, input));
  }

  /** Leaves the conversation: it goes from the list at once. */
  async leave(conversationId: string) {
    await api.leaveConversation(conversationId);
    this.removeConversation(conversationId);
  }

  /** The direct conversation with userId (the pair's existing one, or a new one). */
  async directConversation(userId: string): Promise<Conversation> {
    const c = await api.directConversation(userId);
    this.upsertConversation(c);
    void this.refreshUsers([userId]);
    return c;
  }

  private async loadInvitations() {
    try {
      const list = await api.invitations();
      this.state.invitations = list;
      void this.ensureUsers(list.map((i) => i.invitedBy));
      this.changed();
    } catch {
      /* shown again after the next reconnect */
    }
  }

  private addInvitation(i: Invitation) {
    this.state.invitations = withInvitation(this.state.invitations, i);
    if (i.inviter) this.mergeUsers([i.inviter]);
    this.changed();
  }

  /** Accepts (join) or declines an invitation; it leaves the list either way. */
  async answerInvitation(conversationId: string, accept: boolean): Promise<Conversation | null> {
    let c: Conversation | null = null;
    if (accept) c = await api.acceptInvitation(conversationId);
    else await api.declineInvitation(conversationId);
    this.state.invitations = this.state.invitations.filter((i) => i.conversationId !== conversationId);
    if (c) this.upsertConversation(c);
    this.changed();
    return c;
  }

  async setAddPolicy(policy: AddPolicy) {
    const me = await api.setAddPolicy(this.state.userId, policy);
    if (me) this.mergeUsers([me]);
  }

  async loadBlocked() {
    const list = await api.blockedUsers();
    this.state.blocked = list;
    this.mergeUsers(list);
  }

  isBlocked(userId: string): boolean {
    return !!this.state.blocked?.some((u) => u.userId === userId);
  }

  /** Blocks (or unblocks) a user; the blocked list follows. */
  async setBlocked(userId: string, blocked: boolean) {
    await api.setBlocked(userId, blocked);
    const list = (this.state.blocked ?? []).filter((u) => u.userId !== userId);
    const u = this.state.users.get(userId);
    this.state.blocked = blocked && u ? [...list, u] : list;
    this.changed();
  }

  reportMessage(m: Message, reason: string): Promise<void> {
    return api.reportMessage(m.conversationId, m.messageId, reason);
  }

  reportUser(userId: string, reason: string): Promise<void> {
    return api.reportUser(userId, reason);
  }
}
