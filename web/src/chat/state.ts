// The shape of the signed-in app's state, as components read it from
// `chat.state` (see ../chat.ts, which alone changes it).

import type { Conversation, Message, User } from '../api';
import type { ConnState } from '../realtime';
import type { Pending } from './outbox';

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
    notice: null,
  };
}
