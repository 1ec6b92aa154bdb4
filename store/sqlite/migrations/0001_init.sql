-- confab schema v1. Times are Unix milliseconds (UTC).
CREATE TABLE users (
    user_id       TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    email_lower   TEXT NOT NULL UNIQUE,
    display_name  TEXT,
    avatar_url    TEXT,
    is_online     INTEGER NOT NULL DEFAULT 0,
    last_seen     INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (user_id),
    family_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE conversations (
    conversation_id TEXT PRIMARY KEY,
    name            TEXT,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER,
    last_message    TEXT,
    last_message_at INTEGER,
    message_count   INTEGER NOT NULL DEFAULT 0,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    activity_at     INTEGER NOT NULL -- coalesce(last_message_at, created_at)
);

CREATE TABLE members (
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id),
    user_id         TEXT NOT NULL REFERENCES users (user_id),
    joined_at       INTEGER NOT NULL,
    last_read_seq   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members (user_id, conversation_id);

CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (conversation_id),
    seq             INTEGER NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL,
    content         TEXT NOT NULL,
    message_type    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER,
    deleted         INTEGER NOT NULL DEFAULT 0,
    client_token    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_token ON messages (conversation_id, user_id, client_token) WHERE client_token <> '';

-- Full-text index over live messages' content (external content table).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content = 'messages', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER UPDATE OF deleted ON messages
WHEN new.deleted = 1 AND old.deleted = 0 BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END;
