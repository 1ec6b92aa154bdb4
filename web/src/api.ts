// GraphQL over HTTP (POST /graphql) and the operations the client uses.

import { session, AuthError } from './session';

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
  /** Files (issue 13); links minted for this reader, short-lived. */
  attachments?: Attachment[];
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
}

export interface User {
  userId: string;
  username: string;
  email?: string;
  displayName?: string | null;
  avatarUrl?: string | null;
  lastSeen?: string | null;
  isOnline?: boolean | null;
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
      res = await fetch('/graphql', {
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
      throw new ApiError('graphql', e.message ?? 'Request failed.', e.extensions?.code ?? e.errorType ?? '');
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
        return 'Slow down a little: too many requests. Try again in a moment.';
      case 'NOT_FOUND':
        return 'Not found (it may have been deleted).';
      case 'FORBIDDEN':
        return "You don't have access to that.";
      case 'INTERNAL_SERVER_ERROR':
        return 'Something went wrong on the server. Try again.';
    }
    return e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

// Field sets. Other people's email addresses are never asked for.
const messageCoreFields = 'messageId conversationId userId content messageType createdAt updatedAt seq';
export const messageFields = `${messageCoreFields} attachments { attachmentId fileName contentType size width height url thumbnailUrl previewUrl expiresAt }`;
export const conversationFields =
  'conversationId name participants lastMessageAt lastMessage createdAt updatedAt createdBy messageCount lastSeq unreadCount';
export const userFields = 'userId username displayName avatarUrl lastSeen isOnline';

export const api = {
  async me(): Promise<User | null> {
    const d = await gql<{ me: User | null }>(`query Me { me { ${userFields} email } }`);
    return d.me;
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

  async sendMessage(conversationId: string, content: string, clientToken: string): Promise<Message> {
    const d = await gql<{ sendMessage: Message }>(
      `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { ${messageFields} } }`,
      { input: { conversationId, content, messageType: 'TEXT', clientToken } },
    );
    return d.sendMessage;
  },

  async deleteMessage(conversationId: string, messageId: string): Promise<Message | null> {
    const d = await gql<{ deleteMessage: Message | null }>(
      `mutation Delete($c: ID!, $m: ID!) { deleteMessage(conversationId: $c, messageId: $m) { ${messageFields} } }`,
      { c: conversationId, m: messageId },
    );
    return d.deleteMessage;
  },

  /** Hits carry no attachments: the server weighs a search by its limit
   *  times the fields asked per hit, and a hit only shows its text. */
  async searchMessages(conversationId: string, searchTerm: string, limit = 50): Promise<Message[]> {
    const d = await gql<{ searchMessages: (Message | null)[] | null }>(
      `query Search($c: ID!, $t: String!, $limit: Int) { searchMessages(conversationId: $c, searchTerm: $t, limit: $limit) { ${messageCoreFields} } }`,
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
