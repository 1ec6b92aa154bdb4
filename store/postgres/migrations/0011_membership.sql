-- Issue 15: membership and roles, consent, moderation and administration.
--
-- Every column added here has a constant default (or none), so the ALTERs
-- change only the catalog: no table is rewritten. Rows older than roles
-- keep role '' (confab.Member.Role says how it reads).

ALTER TABLE users
    ADD COLUMN admin      boolean NOT NULL DEFAULT false,
    ADD COLUMN add_policy text NOT NULL DEFAULT '';

-- direct_key is confab.DirectKey of a direct conversation's pair (NULL
-- for groups): its unique index makes a second direct conversation of the
-- same pair a unique violation (CodeConflict). The settings columns hold
-- confab.ConversationSettings as given ('' is the default role).
ALTER TABLE conversations
    ADD COLUMN direct_key       text COLLATE "C",
    ADD COLUMN add_members_role text NOT NULL DEFAULT '',
    ADD COLUMN post_role        text NOT NULL DEFAULT '',
    ADD COLUMN react_role       text NOT NULL DEFAULT '',
    ADD COLUMN slow_mode        integer NOT NULL DEFAULT 0,
    ADD COLUMN archived_at      timestamptz;
CREATE UNIQUE INDEX conversations_direct_key ON conversations (direct_key) WHERE direct_key IS NOT NULL;

-- last_posted_at is written only by sends in slow mode.
ALTER TABLE members
    ADD COLUMN role           text NOT NULL DEFAULT '',
    ADD COLUMN muted_until    timestamptz,
    ADD COLUMN last_posted_at timestamptz;

-- deleted_by: the moderator who deleted the message ('' for its author).
ALTER TABLE messages ADD COLUMN deleted_by text COLLATE "C" NOT NULL DEFAULT '';

-- member_id: the member a MEMBER_* change is about (NULL otherwise).
ALTER TABLE changes ADD COLUMN member_id text COLLATE "C";

-- A user's messages, newest first (ListUserMessages: an export or a
-- deletion of the user's data), without a pass over every message. One
-- more index entry per append. On a large table, build it beforehand with
-- CREATE INDEX CONCURRENTLY messages_by_user ON messages (user_id,
-- message_id); this file then finds it there.
CREATE INDEX IF NOT EXISTS messages_by_user ON messages (user_id, message_id);

-- user_id blocks blocked_id. The second index serves BlocksBetween's other
-- direction (who blocks user_id).
CREATE TABLE blocks (
    user_id    text COLLATE "C" NOT NULL,
    blocked_id text COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
);
CREATE INDEX blocks_by_blocked ON blocks (blocked_id, user_id);

-- Pending invitations, one per conversation and invitee.
CREATE TABLE invitations (
    conversation_id text COLLATE "C" NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    invited_by      text COLLATE "C" NOT NULL,
    role            text NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX invitations_by_user ON invitations (user_id, created_at);

-- Bans: conversation_id '' is a server-wide ban; until NULL is for good.
CREATE TABLE bans (
    conversation_id text COLLATE "C" NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    banned_by       text COLLATE "C" NOT NULL,
    reason          text NOT NULL,
    created_at      timestamptz NOT NULL,
    until           timestamptz,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX bans_by_created ON bans (conversation_id, created_at);

-- The reports queue; report_id is time-ordered, so it is the page order.
CREATE TABLE reports (
    report_id       text COLLATE "C" PRIMARY KEY,
    reporter_id     text COLLATE "C" NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    message_id      text COLLATE "C" NOT NULL,
    reason          text NOT NULL,
    created_at      timestamptz NOT NULL,
    status          text NOT NULL,
    resolved_by     text COLLATE "C" NOT NULL DEFAULT '',
    resolved_at     timestamptz,
    resolution      text NOT NULL DEFAULT ''
);
CREATE INDEX reports_by_status ON reports (status, report_id);

-- The audit log, only ever appended to; entry_id is time-ordered. It
-- outlives the users and conversations it names.
CREATE TABLE audit_log (
    entry_id        text COLLATE "C" PRIMARY KEY,
    at              timestamptz NOT NULL,
    actor_id        text COLLATE "C" NOT NULL,
    action          text NOT NULL,
    conversation_id text COLLATE "C" NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    message_id      text COLLATE "C" NOT NULL,
    reason          text NOT NULL,
    until           timestamptz,
    detail          text NOT NULL
);
CREATE INDEX audit_log_by_conversation ON audit_log (conversation_id, entry_id);
CREATE INDEX audit_log_by_user ON audit_log (user_id, entry_id);
