-- Issue 14: Web Push subscriptions, one row per browser endpoint.
CREATE TABLE push_subscriptions (
    endpoint   text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    p256dh     text NOT NULL,
    auth       text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);
