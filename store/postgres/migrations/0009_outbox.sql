-- Issue 14: the durable outbox, written in the transaction of the change
-- that causes each event, and the webhook endpoints it delivers to.
-- ClaimOutbox takes rows with FOR UPDATE SKIP LOCKED, so nodes claiming
-- at once never wait for or take each other's rows; the lease columns
-- keep a claimed row from others after the claim's transaction ends.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text NOT NULL,
    target          text NOT NULL DEFAULT '',
    event_id        bigint NOT NULL DEFAULT 0, -- 0: the row's own id
    event           text NOT NULL,
    conversation_id text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL,
    data            jsonb NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    not_before      timestamptz NOT NULL,
    owner           text NOT NULL DEFAULT '',
    lease_until     timestamptz NOT NULL DEFAULT 'epoch',
    last_error      text NOT NULL DEFAULT '',
    done            boolean NOT NULL DEFAULT false,
    dead            boolean NOT NULL DEFAULT false
);
CREATE INDEX outbox_pending ON outbox (id) WHERE NOT done AND NOT dead;
CREATE INDEX outbox_events ON outbox (at) WHERE channel = 'event';

CREATE TABLE webhooks (
    webhook_id  text PRIMARY KEY,
    url         text NOT NULL,
    events      text[] NOT NULL,
    secret      text NOT NULL,
    created_at  timestamptz NOT NULL,
    failures    integer NOT NULL DEFAULT 0,
    disabled_at timestamptz
);
