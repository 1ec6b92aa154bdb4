-- Retention: PurgeMessages removes the oldest messages of every
-- conversation, a batch at a time. It walks this index from its start, so a
-- batch costs its own rows rather than a scan of the table; the price is
-- one index entry per message, kept up by every append. A purged row's
-- search tsvector goes with it.
--
-- Building it takes a lock that holds writes back. On a large table, build
-- it beforehand with CREATE INDEX CONCURRENTLY messages_created_at ON
-- messages (created_at); this file then finds it there.
CREATE INDEX IF NOT EXISTS messages_created_at ON messages (created_at);
