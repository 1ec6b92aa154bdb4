// Package sqlite is confab.Store on SQLite, the embedded default engine. It
// passes the contract suite store/storetest.
//
// Driver: modernc.org/sqlite, a pure-Go SQLite with FTS5 compiled in, so a
// plain `go build` (CGO_ENABLED=0, no build tags) gives full-text search and
// the binary cross-compiles.
//
// Durability: every connection runs journal_mode=WAL, synchronous=FULL,
// foreign_keys=ON and a busy_timeout. A call that returned success survives
// kill -9 and power loss.
//
// Connections: one write connection (a *sql.DB limited to one connection;
// SQLite has one writer anyway) carries every write, with BEGIN IMMEDIATE; a
// separate pool carries reads, which run concurrently under WAL and see
// committed data only.
//
// Group commit: AppendMessage goes through the writer (writer.go), one
// goroutine, started by Open and stopped by Close, that puts every append
// waiting at the time into one transaction with a savepoint each, indexes
// the batch for search, commits once and then answers each caller. Commit
// throughput is bound by fsync, so this is what makes durable sends fast.
// Other writes go straight to the write connection, between batches.
//
// Change log (issue 12): every change to a conversation's content takes
// conversations.last_change_seq + 1 in the transaction that makes it, and
// is recorded in changes; an append's change, mentions and thread root go
// in its savepoint of the batch. The single write connection is what makes
// the log gapless: no two transactions assign a change_seq at once.
//
// Membership and moderation (issue 15): a member's role, mute and slow
// mode mark are columns of members; a direct conversation is unique per
// pair through a unique index on its direct_key. AddMembers, RemoveMember
// and UpdateMembers write their MEMBER_* changes (with the membership as
// JSON) and outbox events in their own transaction. Slow mode is checked
// and marked in the append's savepoint, and only for a send that asks for
// it, so a send without slow mode costs nothing more. An admin's
// DeleteConversation removes every row of the conversation in one
// transaction.
//
// Schema: migrations/*.sql, embedded and applied by internal/sqlmigrate on
// Open. Times are stored as integer Unix milliseconds and returned in UTC.
// Deletion is a flag; only retention (PurgeMessages, the oldest) and
// DeleteConversation remove message rows. A conversation's messages are inserted in seq order and
// SQLite gives a new row a rowid above every row present, so rowids
// increase with seq within a conversation, purges or not; SearchMessages
// relies on it.
//
// Errors: driver errors are classified by SQLite's extended result code
// (mapErr), never by their text. Like every store's, they carry a code and
// no user-facing message.
//
// Locks: two mutexes, never held together and never held across a call
// into the database. writer.mu guards the writer's closed state; an append
// holds it for reading while it queues its request (which may wait for room
// in the queue, not for I/O). readPool.mu guards the prepared-statement
// cache; it is held for a map lookup or insert only, never while a query
// is prepared, so one slow prepare holds up no other read.
//
// The store holds no business rules (authorisation, validation, hashing)
// and never publishes events. SQLite would keep NUL and invalid UTF-8 in
// text where PostgreSQL refuses them; the services refuse such input
// (confab.ValidText) before it gets here, so both stores keep the same
// text. The preview cut, activity order and the search word rule are the
// root package's (confab.Preview, Conversation.ActivityAt,
// confab.SearchWords).
package sqlite
