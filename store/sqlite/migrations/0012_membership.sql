-- Issue 15: roles and settings, direct conversations, moderation (blocks,
-- invitations, bans, reports, the audit log) and administration.

-- A member's role; '' on rows older than roles reads as chat.RoleOf says
-- (the creator OWNER, the others MEMBER), so nothing is rewritten here.
-- last_posted_at is kept only for a send with slow mode on.
ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN muted_until INTEGER;
ALTER TABLE members ADD COLUMN last_posted_at INTEGER;

-- direct_key is confab.DirectKey of a direct conversation's pair, NULL for
-- a group: the unique index makes a second direct conversation of a pair a
-- constraint violation (CodeConflict). The settings are the lowest roles
-- allowed ('' for the default) and the slow mode in seconds.
ALTER TABLE conversations ADD COLUMN direct_key TEXT;
CREATE UNIQUE INDEX conversations_direct ON conversations (direct_key) WHERE direct_key IS NOT NULL;
ALTER TABLE conversations ADD COLUMN add_members_role TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN post_role TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN react_role TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN slow_mode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN archived_at INTEGER;

-- deleted_by: the moderator who deleted a message ('' when its author did).
-- ListUserMessages walks a user's messages newest first.
ALTER TABLE messages ADD COLUMN deleted_by TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_by_user ON messages (user_id, message_id);

-- A MEMBER_* change names its member, and (but for MEMBER_REMOVED) keeps
-- the membership right after the change as JSON (see memberSnapshot).
ALTER TABLE changes ADD COLUMN member_id TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN member TEXT;

ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN add_policy TEXT NOT NULL DEFAULT '';

CREATE TABLE blocks (
    user_id    TEXT NOT NULL, -- who blocked
    blocked_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX blocks_blocked ON blocks (blocked_id, user_id);

CREATE TABLE invitations (
    conversation_id TEXT NOT NULL,
    user_id         TEXT NOT NULL, -- the invitee
    invited_by      TEXT NOT NULL,
    role            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX invitations_by_user ON invitations (user_id, created_at);

-- conversation_id '' is a server-wide ban; until NULL is for good.
CREATE TABLE bans (
    conversation_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    banned_by       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    until           INTEGER,
    PRIMARY KEY (conversation_id, user_id)
) WITHOUT ROWID;
CREATE INDEX bans_newest ON bans (conversation_id, created_at);

-- Report and audit ids are time-ordered (UUIDv7): pages walk them newest
-- first.
CREATE TABLE reports (
    report_id       TEXT PRIMARY KEY,
    reporter_id     TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    status          TEXT NOT NULL,
    resolved_by     TEXT NOT NULL DEFAULT '',
    resolved_at     INTEGER,
    resolution      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reports_by_status ON reports (status, report_id);

CREATE TABLE audit_log (
    entry_id        TEXT PRIMARY KEY,
    at              INTEGER NOT NULL,
    actor_id        TEXT NOT NULL,
    action          TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    reason          TEXT NOT NULL,
    until           INTEGER,
    detail          TEXT NOT NULL
);
CREATE INDEX audit_by_conversation ON audit_log (conversation_id, entry_id) WHERE conversation_id <> '';
CREATE INDEX audit_by_user ON audit_log (user_id, entry_id) WHERE user_id <> '';
