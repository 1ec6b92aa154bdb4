// The shape of the signed-in app's state, as components read it from
// `chat.state` (see ../chat.ts, which alone changes it).

import type { Conversation, Invitation, Member, Message, MessageHit, ReadMark, User } from '../api';
import type { ConnState } from '../realtime';
import type { Pending } from './outbox';

/** The open conversation's messages. */
export interface Thread {
  conversationId: string;
  /** Confirmed messages of the timeline, oldest first, by seq. */
  messages: Message[];
  /** Ids of messages seen deleted: an older copy never brings one back. */
  deleted: Set<string>;
  /** Own messages not yet confirmed, as shown (outbox.visible). */
  pending: Pending[];
  nextToken: string | null;
  loading: boolean;
  loadingOlder: boolean;
  error: string | null;
  olderError: string | null;
  /** Highest seq seen (what read marks are sent for). */
  lastSeq: number;
  /** Highest changeSeq applied: what the change log resumes after. */
  lastChangeSeq: number;
  /** A message to scroll to and highlight (from search). */
  highlightSeq: number | null;
}

/** The open reply thread (one level: replies to a root message). */
export interface ReplyThread {
  conversationId: string;
  rootId: string;
  /** The root as last seen; null until loaded. */
  root: Message | null;
  /** Confirmed replies, oldest first, by seq. */
  messages: Message[];
  deleted: Set<string>;
  nextToken: string | null;
  loading: boolean;
  loadingOlder: boolean;
  error: string | null;
}

/** Search over all the caller's conversations. */
export interface SearchAllState {
  term: string;
  loading: boolean;
  results: MessageHit[] | null;
  nextToken: string | null;
  error: string | null;
}

export interface SearchState {
  term: string;
  loading: boolean;
  results: Message[] | null;
  error: string | null;
}

/** The open conversation's members, as far as loaded (the members panel). */
export interface MembersState {
  conversationId: string;
  items: Member[];
  nextToken: string | null;
  loading: boolean;
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
  searchAll: SearchAllState | null;
  /** The reply thread shown beside the open conversation. */
  replies: ReplyThread | null;
  /** Who is typing in the open conversation, until when (see chat/typing). */
  typists: Map<string, number>;
  /** The other members' read marks in the open conversation (see chat/receipts). */
  readMarks: Map<string, ReadMark>;
  /** A transient message for the whole app (role=alert). */
  notice: string | null;
  /** Members of the open conversation, once the members panel asked for them. */
  members: MembersState | null;
  /** Until when a moderator muted the caller in the open conversation, as last heard. */
  mutedUntil: string | null;
  /** Pending invitations, newest first. */
  invitations: Invitation[];
  /** Conversations the caller was removed from (or left) this session: their view closes. */
  gone: Set<string>;
  /** The users the caller blocks, once the settings asked for them. */
  blocked: User[] | null;
}

/** The state right after sign-in: nothing loaded yet. */
export function initialState(userId: string, online: boolean): State {
  return {
    userId,
    me: null,
    conn: 'connecting',
    online,
    conversations: new Map(),
    convsLoading: true,
    convsError: null,
    convsNextToken: null,
    users: new Map(),
    openId: null,
    openError: null,
    thread: null,
    search: null,
    searchAll: null,
    replies: null,
    typists: new Map(),
    readMarks: new Map(),
    notice: null,
    members: null,
    mutedUntil: null,
    invitations: [],
    gone: new Set(),
    blocked: null,
  };
}
