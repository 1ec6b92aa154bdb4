-- confab schema v1 on PostgreSQL. Times are timestamptz written at
-- millisecond precision; the store reads them back in UTC. Id columns use
-- the "C" collation: ordering and cursor comparisons are byte order, as in Go.

CREATE TABLE users (
    user_id       text COLLATE "C" PRIMARY KEY,
    username      text NOT NULL,
    email         text NOT NULL,
    display_name  text,
    avatar_url    text,
    is_online     boolean NOT NULL DEFAULT false,
    last_seen     timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz,
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX users_username ON users (username);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

CREATE TABLE refresh_tokens (
    hash       text COLLATE "C" PRIMARY KEY,
    user_id    text COLLATE "C" NOT NULL REFERENCES users (user_id),
    family_id  text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used       boolean NOT NULL DEFAULT false,
    revoked    boolean NOT NULL DEFAULT false
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE conversations (
    conversation_id text COLLATE "C" PRIMARY KEY,
    name            text,
    created_by      text COLLATE "C" NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz,
    last_message    text,
    last_message_at timestamptz,
    message_count   integer NOT NULL DEFAULT 0,
    last_seq        bigint NOT NULL DEFAULT 0,
    activity_at     timestamptz NOT NULL -- coalesce(last_message_at, created_at), the list order
);

CREATE TABLE members (
    conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (conversation_id),
    user_id         text COLLATE "C" NOT NULL REFERENCES users (user_id),
    joined_at       timestamptz NOT NULL,
    last_read_seq   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id, conversation_id);

CREATE TABLE messages (
    conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (conversation_id),
    seq             bigint NOT NULL,
    message_id      text COLLATE "C" NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    content         text NOT NULL,
    message_type    text NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz,
    deleted         boolean NOT NULL DEFAULT false,
    client_token    text COLLATE "C" NOT NULL DEFAULT '',
    -- search holds the content's words, case- and diacritic-folded in Go
    -- (search.go); NULL once the message is deleted.
    search          tsvector,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_message_id ON messages (message_id);
CREATE UNIQUE INDEX messages_client_token ON messages (conversation_id, user_id, client_token) WHERE client_token <> '';
CREATE INDEX messages_search ON messages USING gin (search);
