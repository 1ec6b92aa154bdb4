-- Files sent to conversations (issue 13). The bytes live in the blob
-- store; this is what confab knows of them.
CREATE TABLE uploads (
    upload_id       text PRIMARY KEY,
    user_id         text NOT NULL,
    conversation_id text NOT NULL REFERENCES conversations (conversation_id),
    file_name       text NOT NULL,
    content_type    text NOT NULL,
    size            bigint NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    ready           boolean NOT NULL DEFAULT false,
    width           integer NOT NULL DEFAULT 0,
    height          integer NOT NULL DEFAULT 0,
    thumb_type      text NOT NULL DEFAULT '',
    message_id      text
);
CREATE INDEX uploads_message ON uploads (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX uploads_user_created ON uploads (user_id, created_at);
CREATE INDEX uploads_unattached_expiry ON uploads (expires_at) WHERE message_id IS NULL;
