// The live connection: GraphQL subscriptions over one WebSocket at /graphql
// (protocol graphql-transport-ws, via the graphql-ws client).
//
// What this adds to graphql-ws:
// - the token is fetched on every (re)connect, refreshed first after the
//   server closed with 4403 (token expired);
// - retries forever, with a capped backoff that ends early when the browser
//   comes back online;
// - a dead socket (network drop, laptop sleep) is noticed within seconds: pings
//   every 10 s expect a pong within 5 s, and going offline or coming back to
//   the page checks at once;
// - subscription variables are re-read on every resubscribe, so a resumed
//   onConversationChanged asks for exactly what it has not seen (afterChange);
// - subscriptions that graphql-ws gives up on (fatal close codes) are
//   started again after a pause.

import { createClient, type Client } from 'graphql-ws/client';
import { session } from './session';
import { socketURL } from './base';

export type ConnState = 'connecting' | 'connected' | 'reconnecting';

export interface GraphQLError {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
}

export interface SubscriptionHandlers<T> {
  next(data: T): void;
  /** GraphQL errors the server sent for this subscription; it has ended. */
  error?(errors: readonly GraphQLError[]): void;
}

interface Options {
  onState(state: ConnState): void;
  /** Called after the socket came back following a drop. */
  onReconnected(): void;
}

const pingEveryMs = 10_000;
const pongWithinMs = 5_000;
const restartAfterMs = 3_000;

export class Realtime {
  private client: Client;
  private socket: WebSocket | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private wake: (() => void) | null = null;
  private refreshNext = false;
  private socketToken = '';
  private everConnected = false;
  private disposed = false;
  private cleanup: (() => void)[] = [];
  state: ConnState = 'connecting';

  constructor(private opts: Options) {
    this.client = createClient({
      url: () => socketURL('graphql'),
      connectionParams: async () => {
        // Closed with 4403 (token expired or refused) and we have no newer
        // token than the one that socket used: refresh before trying again.
        if (this.refreshNext && session.session?.idToken === this.socketToken) {
          await session.refresh(true).catch(() => {});
        }
        this.refreshNext = false;
        let token = session.session?.idToken ?? '';
        try {
          token = await session.getIdToken();
        } catch {
          /* offline: try the token we have; the server says 4403 if it is stale */
        }
        this.socketToken = token;
        return { Authorization: token };
      },
      lazy: true,
      keepAlive: pingEveryMs,
      retryAttempts: Infinity,
      shouldRetry: () => !this.disposed,
      retryWait: (retries) =>
        new Promise<void>((resolve) => {
          const ms = Math.min(500 * 2 ** retries, 8_000) + Math.random() * 700;
          const done = () => {
            clearTimeout(t);
            if (this.wake === done) this.wake = null;
            resolve();
          };
          const t = setTimeout(done, ms);
          this.wake = done;
        }),
      on: {
        connecting: () => this.setState(this.everConnected ? 'reconnecting' : 'connecting'),
        connected: (socket) => {
          this.socket = socket as WebSocket;
          const again = this.everConnected;
          this.everConnected = true;
          this.setState('connected');
          if (again) this.opts.onReconnected();
        },
        closed: (event) => {
          this.socket = null;
          clearTimeout(this.pongTimer);
          if ((event as CloseEvent)?.code === 4403) this.refreshNext = true;
          if (!this.disposed) this.setState(this.everConnected ? 'reconnecting' : 'connecting');
        },
        ping: (received) => {
          if (!received) this.armPongTimer();
        },
        pong: (received) => {
          if (received) clearTimeout(this.pongTimer);
        },
      },
    });

    const onOffline = () => this.client.terminate();
    const onOnline = () => this.wake?.();
    const onVisible = () => {
      if (document.visibilityState === 'visible') this.check();
    };
    window.addEventListener('offline', onOffline);
    window.addEventListener('online', onOnline);
    document.addEventListener('visibilitychange', onVisible);
    // A timer that fires far later than asked means the machine slept.
    let last = Date.now();
    const tick = setInterval(() => {
      const now = Date.now();
      if (now - last > 15_000) this.check();
      last = now;
    }, 5_000);
    this.cleanup.push(
      () => window.removeEventListener('offline', onOffline),
      () => window.removeEventListener('online', onOnline),
      () => document.removeEventListener('visibilitychange', onVisible),
      () => clearInterval(tick),
    );
  }

  private setState(s: ConnState) {
    if (this.state === s) return;
    this.state = s;
    this.opts.onState(s);
  }

  private armPongTimer() {
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => this.client.terminate(), pongWithinMs);
  }

  /** Makes sure the connection is alive now: pings an open socket, or cuts
   *  short a wait between retries. */
  check() {
    const s = this.socket;
    if (s && s.readyState === WebSocket.OPEN) {
      try {
        s.send(JSON.stringify({ type: 'ping' }));
        this.armPongTimer();
      } catch {
        this.client.terminate();
      }
    } else {
      this.wake?.();
    }
  }

  /**
   * Starts a subscription; returns the function that ends it. variables is
   * called on every (re)subscribe, so it can name the latest afterChange.
   */
  subscribe<T>(query: string, variables: () => Record<string, unknown>, handlers: SubscriptionHandlers<T>): () => void {
    let ended = false;
    let dispose: () => void = () => {};
    let restartTimer: ReturnType<typeof setTimeout> | undefined;
    let limited = 0;
    // graphql-ws serialises this payload each time it (re)sends the
    // subscription; the getter makes it read the variables afresh then.
    const payload = {
      query,
      get variables() {
        return variables();
      },
    };
    const start = () => {
      if (ended || this.disposed) return;
      dispose = this.client.subscribe<T>(payload, {
        next: (result) => {
          limited = 0;
          if (result.errors?.length) {
            handlers.error?.(result.errors as GraphQLError[]);
            return;
          }
          if (result.data) handlers.next(result.data as T);
        },
        error: (err) => {
          if (ended || this.disposed) return;
          if (Array.isArray(err)) {
            const errors = err as GraphQLError[];
            if (errors.some((e) => e.extensions?.code === 'RATE_LIMITED')) {
              // The server meters subscribe messages per connection (a
              // reconnect resubscribes everything at once): try again soon.
              limited++;
              restartTimer = setTimeout(start, Math.min(30_000, 1000 * 2 ** Math.min(limited, 5)) * (0.5 + Math.random()));
              return;
            }
            ended = true;
            handlers.error?.(errors);
            return;
          }
          // A close graphql-ws treats as final, or a failed connection: try again.
          restartTimer = setTimeout(start, restartAfterMs);
        },
        complete: () => {
          // Ended by the server, not by us (e.g. while it shut down): start
          // again; a subscription that is no longer allowed errors instead.
          if (!ended && !this.disposed) restartTimer = setTimeout(start, restartAfterMs);
        },
      });
    };
    start();
    return () => {
      ended = true;
      clearTimeout(restartTimer);
      dispose();
    };
  }

  dispose() {
    this.disposed = true;
    clearTimeout(this.pongTimer);
    this.cleanup.forEach((f) => f());
    this.wake?.();
    void this.client.dispose();
  }
}
