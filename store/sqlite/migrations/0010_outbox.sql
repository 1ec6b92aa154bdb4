-- Issue 14: the durable outbox, written in the transaction of the change
-- that causes each event, and the webhook endpoints it delivers to.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT NOT NULL,
    target          TEXT NOT NULL DEFAULT '',
    event_id        INTEGER NOT NULL DEFAULT 0, -- 0: the row's own id
    event           TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    at              INTEGER NOT NULL,
    data            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      INTEGER NOT NULL,
    owner           TEXT NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    done            INTEGER NOT NULL DEFAULT 0,
    dead            INTEGER NOT NULL DEFAULT 0
);
-- ClaimOutbox reads only the pending rows.
CREATE INDEX outbox_pending ON outbox (id) WHERE done = 0 AND dead = 0;
CREATE INDEX outbox_events ON outbox (at) WHERE channel = 'event';

CREATE TABLE webhooks (
    webhook_id  TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL, -- comma-separated event names
    secret      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    disabled_at INTEGER
);
