-- Issue 12: the conversation's change log, edits, reactions, threads,
-- mentions, read and thread marks, and private read receipts.

-- Every change to a conversation's content takes the next change_seq
-- (conversations.last_change_seq + 1) in the transaction that makes it.
ALTER TABLE conversations ADD COLUMN last_change_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE changes (
    conversation_id TEXT NOT NULL,
    change_seq      INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    at              INTEGER NOT NULL,
    user_id         TEXT NOT NULL,
    message_id      TEXT NOT NULL, -- '' for CONVERSATION_UPDATED
    reaction_key    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, change_seq)
) WITHOUT ROWID;
-- PurgeMessages removes the changes of the messages it removes.
CREATE INDEX changes_by_message ON changes (message_id) WHERE message_id <> '';

-- change_seq: the message's latest change. mentions and reply_users are
-- JSON arrays of user ids (NULL when empty). A reply has parent_id set; it
-- is in the timeline (ListMessages) only when also_in_conversation.
ALTER TABLE messages ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN mentions TEXT;
ALTER TABLE messages ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN also_in_conversation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_at INTEGER;
ALTER TABLE messages ADD COLUMN reply_users TEXT;
CREATE INDEX messages_thread ON messages (conversation_id, parent_id, seq) WHERE parent_id <> '';
-- The timeline (ListMessages) walks this instead of the primary key, so a
-- busy thread's replies never lie between a page's messages.
CREATE INDEX messages_timeline ON messages (conversation_id, seq) WHERE parent_id = '' OR also_in_conversation;

-- The versions an edit replaced, newest last (rowid order).
CREATE TABLE message_edits (
    message_id  TEXT NOT NULL,
    content     TEXT NOT NULL,
    at          INTEGER NOT NULL, -- when this version was written
    replaced_at INTEGER NOT NULL
);
CREATE INDEX message_edits_by_message ON message_edits (message_id);

CREATE TABLE reactions (
    conversation_id TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    reaction_key    TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (message_id, reaction_key, user_id)
) WITHOUT ROWID;

-- One row per mentioned member (not the author) of a live message, for
-- Member.UnreadMentions: a delete or a purge removes the message's rows.
CREATE TABLE mentions (
    conversation_id TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    user_id         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq, user_id)
) WITHOUT ROWID;

ALTER TABLE members ADD COLUMN last_read_at INTEGER;

CREATE TABLE thread_reads (
    conversation_id TEXT NOT NULL,
    root_id         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, root_id, user_id)
) WITHOUT ROWID;

ALTER TABLE users ADD COLUMN hide_read_receipts INTEGER NOT NULL DEFAULT 0;
