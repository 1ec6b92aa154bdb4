-- The group-commit writer indexes a batch's messages in messages_fts itself,
-- once per batch and after the batch's savepoints: an FTS5 table written
-- inside a transaction flushes its pending index at every SAVEPOINT, so a
-- per-row trigger cost one index segment per message. Deletion keeps its
-- trigger (messages_fts_delete): DeleteMessage uses no savepoints.
DROP TRIGGER IF EXISTS messages_fts_insert;
