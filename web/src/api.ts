// GraphQL over HTTP (POST /graphql) and the operations the client uses.

import { session, AuthError } from './session';
import { waitText } from './util';
import { apiPath } from './base';

export type MessageType = 'TEXT' | 'IMAGE' | 'FILE' | 'SYSTEM';

export interface Message {
  messageId: string;
  conversationId: string;
  userId: string;
  content: string;
  messageType: MessageType;
  createdAt: string;
  updatedAt?: string | null;
  seq: number;
  /** The changeSeq of the latest change to the message: the copy with the highest wins. */
  changeSeq: number;
  editedAt?: string | null;
  /** Set on the tombstones the change log carries. */
  deletedAt?: string | null;
  /** The thread root this message replies to. */
  parentMessageId?: string | null;
  alsoInConversation?: boolean;
  replyCount?: number;
  lastReplyAt?: string | null;
  replyUserIds?: string[];
  /** Replies by others after the caller's thread read mark. */
  unreadReplies?: number;
  mentions?: string[];
  reactions?: ReactionCount[];
  /** Files (issue 13); links minted for this reader, short-lived. */
  attachments?: Attachment[];
  /** Who deleted it when a moderator did, not its author (issue 15). */
  deletedBy?: string | null;
}

export interface Attachment {
  attachmentId: string;
  fileName: string;
  contentType: string;
  size: number;
  width?: number | null;
  height?: number | null;
  url: string;
  thumbnailUrl?: string | null;
  previewUrl?: string | null;
  expiresAt: string;
}

export interface ReactionCount {
  key: string;
  count: number;
  reactedByMe: boolean;
  userIds: string[];
}

export interface MessageEdit {
  content: string;
  at: string;
  replacedAt: string;
}

export type ChangeKind =
  | 'MESSAGE_SENT'
  | 'MESSAGE_EDITED'
  | 'MESSAGE_DELETED'
  | 'REACTION_ADDED'
  | 'REACTION_REMOVED'
  | 'THREAD_UPDATED'
  | 'CONVERSATION_UPDATED'
  | 'MEMBER_ADDED'
  | 'MEMBER_REMOVED'
  | 'MEMBER_UPDATED';

/** One entry of a conversation's change log (gapless changeSeq). */
export interface ConversationChange {
  changeSeq: number;
  kind: ChangeKind;
  at: string;
  userId: string;
  message?: Message | null;
  reaction?: { key: string; userId: string } | null;
  conversation?: Conversation | null;
  /** The member a MEMBER_* change is about. */
  memberId?: string | null;
  /** That membership right after the change (null for MEMBER_REMOVED). */
  member?: Member | null;
}

/** How far a member has read a conversation. */
export interface ReadMark {
  conversationId: string;
  userId: string;
  seq: number;
  at?: string | null;
}

export interface TypingEvent {
  conversationId: string;
  userId: string;
  typing: boolean;
  at: string;
}

/** A search hit with its conversation. */
export interface MessageHit {
  message: Message;
  /** Enough of the conversation to name it. */
  conversation: Pick<Conversation, 'conversationId' | 'name' | 'participants'>;
}

/** What a send carries besides its text. */
export interface SendOptions {
  /** Reply in the thread of this root. */
  parentMessageId?: string;
  /** A reply also shown in the conversation's timeline. */
  alsoInConversation?: boolean;
  /** Members the message mentions. */
  mentions?: string[];
}

export interface Conversation {
  conversationId: string;
  name?: string | null;
  participants: string[];
  lastMessageAt?: string | null;
  lastMessage?: string | null;
  createdAt: string;
  updatedAt?: string | null;
  createdBy: string;
  messageCount?: number | null;
  lastSeq: number;
  unreadCount: number;
  /** The newest changeSeq: where the change log resumes. */
  lastChangeSeq: number;
  /** Unread messages that mention the caller. */
  unreadMentions: number;
  /** The caller's role (null when not a member: an admin's view). */
  myRole?: Role | null;
  /** Exactly two people, unique per pair; never gains members. */
  direct?: boolean;
  settings?: ConversationSettings;
  /** When an admin archived it: read-only for everyone since. */
  archivedAt?: string | null;
}

/** A member's role in a conversation, highest first. */
export type Role = 'OWNER' | 'ADMIN' | 'MEMBER' | 'READ_ONLY';

/** The lowest role allowed to do each thing. */
export interface ConversationSettings {
  addMembers: Role;
  /** ADMIN: an announcement conversation. */
  post: Role;
  react: Role;
  /** Least seconds between two messages of one member; 0 is off. */
  slowModeSeconds: number;
}

export interface Member {
  userId: string;
  role: Role;
  joinedAt: string;
  lastReadSeq: number;
  mutedUntil?: string | null;
  user?: User | null;
}

/** Who may add a user to a conversation without an invitation. */
export type AddPolicy = 'ANYONE' | 'CONTACTS' | 'INVITATION';

export interface Invitation {
  conversationId: string;
  conversationName?: string | null;
  invitedBy: string;
  inviter?: User | null;
  role: Role;
  createdAt: string;
}

export interface AddMembersResult {
  conversation: Conversation;
  added: string[];
  invited: string[];
}

export interface User {
  userId: string;
  username: string;
  email?: string;
  displayName?: string | null;
  avatarUrl?: string | null;
  lastSeen?: string | null;
  isOnline?: boolean | null;
  /** The caller's own choice (others read false). */
  hideReadReceipts?: boolean | null;
  /** The caller's own (null for others). */
  addPolicy?: AddPolicy | null;
  isAdmin?: boolean;
}

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

/** kind tells how to present a failure: "network" (offline, server down),
 *  "auth" (signed out), "graphql" (code is extensions.code) or "http". */
export class ApiError extends Error {
  constructor(
    readonly kind: 'network' | 'auth' | 'graphql' | 'http',
    message: string,
    readonly code = '',
    /** Seconds the server asks to wait before trying again (RATE_LIMITED), 0 if none. */
    readonly retryAfterSeconds = 0,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Sends one GraphQL operation. A 401 refreshes the token and retries once;
 *  a second 401 ends the session. */
export async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const body = JSON.stringify({ query, variables });
  for (let attempt = 0; ; attempt++) {
    let token: string;
    try {
      token = await session.getIdToken();
    } catch (e) {
      if (e instanceof AuthError && e.code === 'Network') throw new ApiError('network', e.message);
      throw new ApiError('auth', 'Your session has ended. Please sign in again.');
    }
    let res: Response;
    try {
      res = await fetch(apiPath('graphql'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: token },
        body,
      });
    } catch {
      throw new ApiError('network', "Can't reach the server.");
    }
    if (res.status === 401) {
      if (attempt === 0) {
        try {
          await session.refresh(true);
          continue;
        } catch (e) {
          if (e instanceof AuthError && e.code === 'Network') throw new ApiError('network', e.message);
        }
      }
      session.expire();
      throw new ApiError('auth', 'Your session has ended. Please sign in again.');
    }
    let data: any;
    try {
      data = await res.json();
    } catch {
      throw new ApiError('http', `The server answered ${res.status}.`);
    }
    if (Array.isArray(data?.errors) && data.errors.length) {
      const e = data.errors[0];
      const retry = Number(e.extensions?.retryAfterSeconds) || 0;
      throw new ApiError('graphql', e.message ?? 'Request failed.', e.extensions?.code ?? e.errorType ?? '', retry);
    }
    if (!res.ok) throw new ApiError('http', data?.message ?? `The server answered ${res.status}.`);
    return data.data as T;
  }
}

/** A sentence for a person, from any error. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.kind) {
      case 'network':
        return "Can't reach the server. Check your connection.";
      case 'auth':
        return e.message;
    }
    switch (e.code) {
      case 'RATE_LIMITED':
        return e.retryAfterSeconds > 0
          ? `Slow down a little: try again in ${waitText(e.retryAfterSeconds)}.`
          : 'Slow down a little: too many requests. Try again in a moment.';
      case 'NOT_FOUND':
        return 'Not found (it may have been deleted).';
      case 'FORBIDDEN':
        // the server says which role or setting is missing (e.g. muted until…)
        return e.message && e.message !== 'Forbidden' ? e.message : "You don't have access to that.";
      case 'INTERNAL_SERVER_ERROR':
        return 'Something went wrong on the server. Try again.';
    }
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

// Field sets. Other people's email addresses are never asked for.
export const messageFields =
  'messageId conversationId userId content messageType createdAt updatedAt seq changeSeq editedAt deletedAt ' +
  'parentMessageId alsoInConversation replyCount lastReplyAt replyUserIds unreadReplies mentions ' +
  'deletedBy reactions { key count reactedByMe userIds } ' +
  'attachments { attachmentId fileName contentType size width height url thumbnailUrl previewUrl expiresAt }';
export const conversationFields =
  'conversationId name participants lastMessageAt lastMessage createdAt updatedAt createdBy messageCount lastSeq unreadCount ' +
  'lastChangeSeq unreadMentions myRole direct archivedAt settings { addMembers post react slowModeSeconds }';
/** What a search result shows and opens (the server weighs a search by its
 *  limit times the fields asked per result: --max-complexity, 500 by default). */
export const hitFields = 'messageId conversationId userId content messageType createdAt seq changeSeq parentMessageId alsoInConversation';
export const changeFields =
  `changeSeq kind at userId message { ${messageFields} } reaction { key userId } conversation { ${conversationFields} } ` +
  `memberId member { userId role joinedAt lastReadSeq mutedUntil }`;
export const readMarkFields = 'conversationId userId seq at';
export const typingFields = 'conversationId userId typing at';
export const userFields = 'userId username displayName avatarUrl lastSeen isOnline';
/** What the caller reads of themselves. */
export const meFields = `${userFields} email hideReadReceipts addPolicy isAdmin`;
export const memberFields = `userId role joinedAt lastReadSeq mutedUntil user { ${userFields} }`;
export const invitationFields = `conversationId conversationName invitedBy role createdAt inviter { ${userFields} }`;

export const api = {
  async me(): Promise<User | null> {
    const d = await gql<{ me: User | null }>(`query Me { me { ${meFields} } }`);
    return d.me;
  },

  /** Sets whether the caller's read receipts are hidden from the others. */
  async setHideReadReceipts(userId: string, hide: boolean): Promise<User | null> {
    const d = await gql<{ updateUserProfile: User | null }>(
      `mutation Profile($input: UpdateUserProfileInput!) { updateUserProfile(input: $input) { ${meFields} } }`,
      { input: { userId, hideReadReceipts: hide } },
    );
    return d.updateUserProfile;
  },

  /** Sets who may add the caller to a conversation without an invitation. */
  async setAddPolicy(userId: string, addPolicy: AddPolicy): Promise<User | null> {
    const d = await gql<{ updateUserProfile: User | null }>(
      `mutation Policy($input: UpdateUserProfileInput!) { updateUserProfile(input: $input) { ${meFields} } }`,
      { input: { userId, addPolicy } },
    );
    return d.updateUserProfile;
  },

  async findUser(usernameOrEmail: string): Promise<User | null> {
    const d = await gql<{ findUser: User | null }>(
      `query FindUser($q: String!) { findUser(usernameOrEmail: $q) { ${userFields} } }`,
      { q: usernameOrEmail },
    );
    return d.findUser;
  },

  /** Several users in one request (aliased getUser fields). */
  async getUsers(ids: string[]): Promise<User[]> {
    if (!ids.length) return [];
    const vars: Record<string, string> = {};
    const params = ids.map((_, i) => `$u${i}: ID!`).join(', ');
    const fields = ids
      .map((id, i) => {
        vars[`u${i}`] = id;
        return `u${i}: getUser(userId: $u${i}) { ${userFields} }`;
      })
      .join('\n');
    const d = await gql<Record<string, User | null>>(`query Users(${params}) {\n${fields}\n}`, vars);
    return Object.values(d).filter((u): u is User => !!u);
  },

  async listConversations(userId: string, nextToken?: string | null, limit = 50): Promise<Page<Conversation>> {
    const d = await gql<{ listConversations: { items: (Conversation | null)[] | null; nextToken: string | null } | null }>(
      `query Conversations($userId: ID!, $limit: Int, $nextToken: String) {
        listConversations(userId: $userId, limit: $limit, nextToken: $nextToken) { items { ${conversationFields} } nextToken }
      }`,
      { userId, limit, nextToken: nextToken ?? null },
    );
    const c = d.listConversations;
    return { items: (c?.items ?? []).filter((x): x is Conversation => !!x), nextToken: c?.nextToken ?? null };
  },

  async getConversation(conversationId: string): Promise<Conversation | null> {
    const d = await gql<{ getConversation: Conversation | null }>(
      `query Conversation($id: ID!) { getConversation(conversationId: $id) { ${conversationFields} } }`,
      { id: conversationId },
    );
    return d.getConversation;
  },

  async createConversation(name: string | null, participants: string[]): Promise<Conversation> {
    const d = await gql<{ createConversation: Conversation }>(
      `mutation Create($input: CreateConversationInput!) { createConversation(input: $input) { ${conversationFields} } }`,
      { input: { name: name || null, participants } },
    );
    return d.createConversation;
  },

  /** The direct conversation with userId: the pair's existing one, or a new one. */
  async directConversation(userId: string): Promise<Conversation> {
    const d = await gql<{ createConversation: Conversation }>(
      `mutation Direct($input: CreateConversationInput!) { createConversation(input: $input) { ${conversationFields} } }`,
      { input: { participants: [userId], direct: true } },
    );
    return d.createConversation;
  },

  /** A page of a conversation's members, in joinedAt order. */
  async members(conversationId: string, nextToken?: string | null, limit = 100): Promise<Page<Member>> {
    const d = await gql<{ getConversation: { members: { items: Member[]; nextToken: string | null } } | null }>(
      `query Members($id: ID!, $limit: Int, $nextToken: String) {
        getConversation(conversationId: $id) { members(limit: $limit, nextToken: $nextToken) { items { ${memberFields} } nextToken } }
      }`,
      { id: conversationId, limit, nextToken: nextToken ?? null },
    );
    const c = d.getConversation?.members;
    return { items: c?.items ?? [], nextToken: c?.nextToken ?? null };
  },

  async addMembers(conversationId: string, userIds: string[], role?: Role): Promise<AddMembersResult> {
    const d = await gql<{ addMembers: AddMembersResult }>(
      `mutation Add($c: ID!, $u: [ID!]!, $role: MemberRole) {
        addMembers(conversationId: $c, userIds: $u, role: $role) { conversation { ${conversationFields} } added invited }
      }`,
      { c: conversationId, u: userIds, role: role ?? null },
    );
    return d.addMembers;
  },

  async removeMember(conversationId: string, userId: string, reason?: string): Promise<Conversation> {
    const d = await gql<{ removeMember: Conversation }>(
      `mutation Remove($c: ID!, $u: ID!, $reason: String) { removeMember(conversationId: $c, userId: $u, reason: $reason) { ${conversationFields} } }`,
      { c: conversationId, u: userId, reason: reason || null },
    );
    return d.removeMember;
  },

  async leaveConversation(conversationId: string): Promise<void> {
    await gql<{ leaveConversation: boolean }>(`mutation Leave($c: ID!) { leaveConversation(conversationId: $c) }`, { c: conversationId });
  },

  async setMemberRole(conversationId: string, userId: string, role: Role): Promise<Conversation> {
    const d = await gql<{ setMemberRole: Conversation }>(
      `mutation Role($c: ID!, $u: ID!, $role: MemberRole!) { setMemberRole(conversationId: $c, userId: $u, role: $role) { ${conversationFields} } }`,
      { c: conversationId, u: userId, role },
    );
    return d.setMemberRole;
  },

  async transferOwnership(conversationId: string, userId: string): Promise<Conversation> {
    const d = await gql<{ transferOwnership: Conversation }>(
      `mutation Owner($c: ID!, $u: ID!) { transferOwnership(conversationId: $c, userId: $u) { ${conversationFields} } }`,
      { c: conversationId, u: userId },
    );
    return d.transferOwnership;
  },

  async updateConversationSettings(conversationId: string, input: Partial<ConversationSettings>): Promise<Conversation> {
    const d = await gql<{ updateConversationSettings: Conversation }>(
      `mutation Settings($c: ID!, $input: ConversationSettingsInput!) { updateConversationSettings(conversationId: $c, input: $input) { ${conversationFields} } }`,
      { c: conversationId, input },
    );
    return d.updateConversationSettings;
  },

  async muteMember(conversationId: string, userId: string, until: string, reason?: string): Promise<Conversation> {
    const d = await gql<{ muteMember: Conversation }>(
      `mutation Mute($c: ID!, $u: ID!, $until: AWSDateTime!, $reason: String) {
        muteMember(conversationId: $c, userId: $u, until: $until, reason: $reason) { ${conversationFields} }
      }`,
      { c: conversationId, u: userId, until, reason: reason || null },
    );
    return d.muteMember;
  },

  async unmuteMember(conversationId: string, userId: string): Promise<Conversation> {
    const d = await gql<{ unmuteMember: Conversation }>(
      `mutation Unmute($c: ID!, $u: ID!) { unmuteMember(conversationId: $c, userId: $u) { ${conversationFields} } }`,
      { c: conversationId, u: userId },
    );
    return d.unmuteMember;
  },

  /** Removes the member and keeps them out until then (null: for good). */
  async banMember(conversationId: string, userId: string, until: string | null, reason?: string): Promise<void> {
    await gql<{ banMember: boolean }>(
      `mutation Ban($c: ID!, $u: ID!, $until: AWSDateTime, $reason: String) { banMember(conversationId: $c, userId: $u, until: $until, reason: $reason) }`,
      { c: conversationId, u: userId, until, reason: reason || null },
    );
  },

  async invitations(): Promise<Invitation[]> {
    const d = await gql<{ invitations: Invitation[] }>(`query Invitations { invitations { ${invitationFields} } }`);
    return d.invitations ?? [];
  },

  async acceptInvitation(conversationId: string): Promise<Conversation> {
    const d = await gql<{ acceptInvitation: Conversation }>(
      `mutation Accept($c: ID!) { acceptInvitation(conversationId: $c) { ${conversationFields} } }`,
      { c: conversationId },
    );
    return d.acceptInvitation;
  },

  async declineInvitation(conversationId: string): Promise<void> {
    await gql<{ declineInvitation: boolean }>(`mutation Decline($c: ID!) { declineInvitation(conversationId: $c) }`, { c: conversationId });
  },

  async blockedUsers(): Promise<User[]> {
    const d = await gql<{ blockedUsers: User[] }>(`query Blocked { blockedUsers { ${userFields} } }`);
    return d.blockedUsers ?? [];
  },

  async setBlocked(userId: string, blocked: boolean): Promise<void> {
    const op = blocked ? 'blockUser' : 'unblockUser';
    await gql<Record<string, boolean>>(`mutation Block($u: ID!) { ${op}(userId: $u) }`, { u: userId });
  },

  async reportMessage(conversationId: string, messageId: string, reason: string): Promise<void> {
    await gql<{ reportMessage: boolean }>(
      `mutation ReportMessage($c: ID!, $m: ID!, $reason: String!) { reportMessage(conversationId: $c, messageId: $m, reason: $reason) }`,
      { c: conversationId, m: messageId, reason },
    );
  },

  async reportUser(userId: string, reason: string): Promise<void> {
    await gql<{ reportUser: boolean }>(`mutation ReportUser($u: ID!, $reason: String!) { reportUser(userId: $u, reason: $reason) }`, {
      u: userId,
      reason,
    });
  },

  /** A page of messages, newest first. */
  async listMessages(conversationId: string, nextToken?: string | null, limit = 30): Promise<Page<Message>> {
    const d = await gql<{ listMessages: { items: (Message | null)[] | null; nextToken: string | null } | null }>(
      `query Messages($id: ID!, $limit: Int, $nextToken: String) {
        listMessages(conversationId: $id, limit: $limit, nextToken: $nextToken) { items { ${messageFields} } nextToken }
      }`,
      { id: conversationId, limit, nextToken: nextToken ?? null },
    );
    const c = d.listMessages;
    return { items: (c?.items ?? []).filter((x): x is Message => !!x), nextToken: c?.nextToken ?? null };
  },

  async sendMessage(conversationId: string, content: string, clientToken: string, opts: SendOptions = {}): Promise<Message> {
    const input: Record<string, unknown> = { conversationId, content, messageType: 'TEXT', clientToken };
    if (opts.parentMessageId) input.parentMessageId = opts.parentMessageId;
    if (opts.parentMessageId && opts.alsoInConversation) input.alsoInConversation = true;
    if (opts.mentions?.length) input.mentions = opts.mentions;
    const d = await gql<{ sendMessage: Message }>(
      `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { ${messageFields} } }`,
      { input },
    );
    return d.sendMessage;
  },

  async editMessage(conversationId: string, messageId: string, content: string): Promise<Message | null> {
    const d = await gql<{ editMessage: Message | null }>(
      `mutation Edit($c: ID!, $m: ID!, $content: String!) { editMessage(conversationId: $c, messageId: $m, content: $content) { ${messageFields} } }`,
      { c: conversationId, m: messageId, content },
    );
    return d.editMessage;
  },

  /** A message's earlier versions, newest first. */
  async messageEdits(conversationId: string, messageId: string, limit = 20): Promise<MessageEdit[]> {
    const d = await gql<{ getMessage: { edits: MessageEdit[] } | null }>(
      `query Edits($c: ID!, $m: ID!, $limit: Int) { getMessage(conversationId: $c, messageId: $m) { edits(limit: $limit) { content at replacedAt } } }`,
      { c: conversationId, m: messageId, limit },
    );
    return d.getMessage?.edits ?? [];
  },

  /** Adds (add) or takes back the caller's reaction key; answers the message afterwards. */
  async react(conversationId: string, messageId: string, key: string, add: boolean): Promise<Message | null> {
    const op = add ? 'addReaction' : 'removeReaction';
    const d = await gql<Record<string, Message | null>>(
      `mutation React($c: ID!, $m: ID!, $key: String!) { ${op}(conversationId: $c, messageId: $m, key: $key) { ${messageFields} } }`,
      { c: conversationId, m: messageId, key },
    );
    return d[op];
  },

  /** A page of a thread's replies, newest first. */
  async listThread(conversationId: string, parentMessageId: string, nextToken?: string | null, limit = 30): Promise<Page<Message>> {
    const d = await gql<{ listThread: { items: (Message | null)[] | null; nextToken: string | null } | null }>(
      `query Thread($c: ID!, $p: ID!, $limit: Int, $nextToken: String) {
        listThread(conversationId: $c, parentMessageId: $p, limit: $limit, nextToken: $nextToken, newestFirst: true) { items { ${messageFields} } nextToken }
      }`,
      { c: conversationId, p: parentMessageId, limit, nextToken: nextToken ?? null },
    );
    const c = d.listThread;
    return { items: (c?.items ?? []).filter((x): x is Message => !!x), nextToken: c?.nextToken ?? null };
  },

  async getMessage(conversationId: string, messageId: string): Promise<Message | null> {
    const d = await gql<{ getMessage: Message | null }>(
      `query Message($c: ID!, $m: ID!) { getMessage(conversationId: $c, messageId: $m) { ${messageFields} } }`,
      { c: conversationId, m: messageId },
    );
    return d.getMessage;
  },

  async markThreadRead(conversationId: string, parentMessageId: string, seq: number): Promise<Message | null> {
    const d = await gql<{ markThreadRead: Message | null }>(
      `mutation ThreadRead($c: ID!, $p: ID!, $seq: Int!) { markThreadRead(conversationId: $c, parentMessageId: $p, seq: $seq) { ${messageFields} } }`,
      { c: conversationId, p: parentMessageId, seq },
    );
    return d.markThreadRead;
  },

  async setTyping(conversationId: string, typing: boolean): Promise<void> {
    await gql<{ setTyping: boolean }>(`mutation Typing($c: ID!, $typing: Boolean!) { setTyping(conversationId: $c, typing: $typing) }`, {
      c: conversationId,
      typing,
    });
  },

  /** The read marks of the other members who share them. */
  async readBy(conversationId: string): Promise<ReadMark[]> {
    const d = await gql<{ getConversation: { readBy: ReadMark[] } | null }>(
      `query ReadBy($id: ID!) { getConversation(conversationId: $id) { readBy { ${readMarkFields} } } }`,
      { id: conversationId },
    );
    return d.getConversation?.readBy ?? [];
  },

  async searchAllMessages(searchTerm: string, nextToken?: string | null, limit = 20): Promise<Page<MessageHit>> {
    const d = await gql<{ searchAllMessages: { items: MessageHit[] | null; nextToken: string | null } | null }>(
      `query SearchAll($t: String!, $limit: Int, $nextToken: String) {
        searchAllMessages(searchTerm: $t, limit: $limit, nextToken: $nextToken) {
          items { message { ${hitFields} } conversation { conversationId name participants } } nextToken
        }
      }`,
      { t: searchTerm, limit, nextToken: nextToken ?? null },
    );
    const c = d.searchAllMessages;
    return { items: c?.items ?? [], nextToken: c?.nextToken ?? null };
  },

  async deleteMessage(conversationId: string, messageId: string): Promise<Message | null> {
    const d = await gql<{ deleteMessage: Message | null }>(
      `mutation Delete($c: ID!, $m: ID!) { deleteMessage(conversationId: $c, messageId: $m) { ${messageFields} } }`,
      { c: conversationId, m: messageId },
    );
    return d.deleteMessage;
  },

  async searchMessages(conversationId: string, searchTerm: string, limit = 40): Promise<Message[]> {
    const d = await gql<{ searchMessages: (Message | null)[] | null }>(
      `query Search($c: ID!, $t: String!, $limit: Int) { searchMessages(conversationId: $c, searchTerm: $t, limit: $limit) { ${hitFields} } }`,
      { c: conversationId, t: searchTerm, limit },
    );
    return (d.searchMessages ?? []).filter((x): x is Message => !!x);
  },

  async markConversationRead(conversationId: string, seq: number): Promise<Conversation | null> {
    const d = await gql<{ markConversationRead: Conversation | null }>(
      `mutation Read($c: ID!, $seq: Int!) { markConversationRead(conversationId: $c, seq: $seq) { ${conversationFields} } }`,
      { c: conversationId, seq },
    );
    return d.markConversationRead;
  },
};
