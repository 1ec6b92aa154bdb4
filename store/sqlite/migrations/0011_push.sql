-- Issue 14: Web Push subscriptions, one row per browser endpoint.
CREATE TABLE push_subscriptions (
    endpoint   TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);

-- Notification settings (confab.NotificationSettings as JSON) and the
-- coalescing windows of Web Push: one push per user and conversation per
-- window.
CREATE TABLE notification_settings (
    user_id  TEXT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    settings TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE push_windows (
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    until           INTEGER NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
) WITHOUT ROWID;
