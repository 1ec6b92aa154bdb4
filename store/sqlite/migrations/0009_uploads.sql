-- Files sent to conversations (issue 13). The bytes live in the blob
-- store; this is what confab knows of them.
CREATE TABLE uploads (
    upload_id       TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id),
    file_name       TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    ready           INTEGER NOT NULL DEFAULT 0,
    width           INTEGER NOT NULL DEFAULT 0,
    height          INTEGER NOT NULL DEFAULT 0,
    thumb_type      TEXT NOT NULL DEFAULT '',
    message_id      TEXT
);
CREATE INDEX uploads_message ON uploads (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX uploads_user_created ON uploads (user_id, created_at);
CREATE INDEX uploads_unattached_expiry ON uploads (expires_at) WHERE message_id IS NULL;
