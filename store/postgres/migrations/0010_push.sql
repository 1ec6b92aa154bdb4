-- Issue 14: Web Push subscriptions, one row per browser endpoint.
CREATE TABLE push_subscriptions (
    endpoint   text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    p256dh     text NOT NULL,
    auth       text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);

-- Notification settings (confab.NotificationSettings as JSON) and the
-- coalescing windows of Web Push: one push per user and conversation per
-- window.
CREATE TABLE notification_settings (
    user_id  text PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    settings jsonb NOT NULL
);
CREATE TABLE push_windows (
    user_id         text NOT NULL,
    conversation_id text NOT NULL,
    until           timestamptz NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);
