-- Retention: PurgeMessages removes the oldest messages of every
-- conversation, a batch at a time. It walks this index from its start, so a
-- batch costs its own rows rather than a scan of the table; the price is
-- one index entry per message, kept up by every append.
--
-- Rows it removes leave the search index through PurgeMessages itself
-- (FTS5 'delete' for live rows only; messages_fts_delete already removed a
-- deleted row's entry), not through a trigger.
CREATE INDEX IF NOT EXISTS messages_created_at ON messages (created_at);
