-- The conversation features of issue 12: a change log per conversation,
-- edits, reactions, threads, mentions and read receipts.
--
-- The tables that hang off a message reference messages(message_id) (or
-- its key) ON DELETE CASCADE, so retention (PurgeMessages) takes a purged
-- message's edits, mentions and change log entries with it; each has an
-- index led by the referencing columns, so the cascade costs the rows it
-- removes. Reactions and thread read marks are deleted by PurgeMessages
-- itself, by their own keys.

ALTER TABLE users ADD COLUMN hide_read_receipts boolean NOT NULL DEFAULT false;

-- last_change_seq is taken under the conversation's row lock, like
-- last_seq, so it is gapless across nodes.
ALTER TABLE conversations ADD COLUMN last_change_seq bigint NOT NULL DEFAULT 0;

ALTER TABLE members ADD COLUMN last_read_at timestamptz;

ALTER TABLE messages
    ADD COLUMN change_seq           bigint NOT NULL DEFAULT 0,
    ADD COLUMN edited_at            timestamptz,
    ADD COLUMN mentions             text[] NOT NULL DEFAULT '{}',
    ADD COLUMN parent_message_id    text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN also_in_conversation boolean NOT NULL DEFAULT false,
    ADD COLUMN reply_count          integer NOT NULL DEFAULT 0,
    ADD COLUMN last_reply_at        timestamptz,
    ADD COLUMN reply_user_ids       text[] NOT NULL DEFAULT '{}';
-- A thread's replies in seq order (ListThread, CountUnreadReplies). Only
-- replies are in it, so it starts empty, but building it reads the table
-- once while writes wait (about a second per million messages).
CREATE INDEX messages_thread ON messages (conversation_id, parent_message_id, seq) WHERE parent_message_id <> '';

-- The change log: one row per change, keyed by the conversation's
-- change_seq. message_id is NULL for CONVERSATION_UPDATED.
CREATE TABLE changes (
    conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (conversation_id),
    change_seq      bigint NOT NULL,
    kind            text NOT NULL,
    at              timestamptz NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    message_id      text COLLATE "C" REFERENCES messages (message_id) ON DELETE CASCADE,
    reaction_key    text NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, change_seq)
);
CREATE INDEX changes_message ON changes (message_id) WHERE message_id IS NOT NULL;

-- Earlier versions of edited messages, the newest with the highest edit_id.
CREATE TABLE message_edits (
    edit_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      text COLLATE "C" NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
    content         text NOT NULL,
    written_at      timestamptz NOT NULL,
    replaced_at     timestamptz NOT NULL
);
CREATE INDEX message_edits_message ON message_edits (message_id, edit_id);

-- One row per user, key and message, keyed by conversation first: a page
-- of messages is a narrow range of time-ordered message ids, so
-- ListReactions reads one range of this index (at included: an index-only
-- scan) rather than one descent per message. PurgeMessages deletes the
-- purged messages' rows by this key.
CREATE TABLE reactions (
    conversation_id text COLLATE "C" NOT NULL,
    message_id      text COLLATE "C" NOT NULL,
    key             text COLLATE "C" NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    at              timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, message_id, key, user_id) INCLUDE (at)
);

-- Who a live message mentions, but its author: Member.UnreadMentions
-- counts the rows above the member's read mark. A deleted message's rows
-- are removed with the deletion.
CREATE TABLE mentions (
    conversation_id text COLLATE "C" NOT NULL,
    seq             bigint NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    PRIMARY KEY (conversation_id, seq, user_id),
    FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);
CREATE INDEX mentions_by_user ON mentions (conversation_id, user_id, seq);

-- Each user's read mark in a thread (the seq of the newest reply read).
CREATE TABLE thread_reads (
    conversation_id text COLLATE "C" NOT NULL,
    root_id         text COLLATE "C" NOT NULL,
    user_id         text COLLATE "C" NOT NULL,
    seq             bigint NOT NULL,
    PRIMARY KEY (conversation_id, root_id, user_id)
);
