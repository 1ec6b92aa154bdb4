// Package dynamodb is confab.Store on Amazon DynamoDB (AWS SDK for Go v2,
// imported as ddb). It passes the contract suite store/storetest against
// DynamoDB Local (testdata/start-dynamodb.sh).
//
// # Tables
//
// Four tables, each name prefixed by Config.TablePrefix. The first three
// are the recipe's, with its keys and indexes, so a recipe deployment's
// tables are served in place (see "Recipe data" below); the fourth holds
// what confab needs beside them. Open creates missing tables and indexes
// with on-demand capacity unless told not to.
//
// <prefix>messages — the recipe's Messages table.
//
//	key:   conversationId (S, hash), messageId (S, range)
//	attrs: seq (N), userId, content, messageType, createdAt and updatedAt
//	       (ISO 8601 UTC, millisecond precision), deleted (BOOL),
//	       clientToken, ageBucket, and #12's: changeSeq (N, its latest
//	       change), sentChangeSeq (N, its MESSAGE_SENT change), editedAt,
//	       mentions (L of S), parentMessageId, alsoInConversation (BOOL);
//	       on a thread root replyCount (N), lastReplyAt, replyUserIds
//	       (L of S), lastReplySeq (N); reactions (M: key → {n: count,
//	       u: the earliest reactors, L of {id, at}, at most 10}); and
//	       #15's deletedBy (a moderator's deletion)
//	index MessagesByTime (recipe): conversationId + createdAt
//	index MessagesBySeq (confab):  conversationId + seq (N)
//	index MessagesByAge (confab):  ageBucket + createdAt, for retention;
//	       projects only seq, userId, deleted and clientToken; also read
//	       by Usage
//	index MessagesByUser (confab): userId + messageId, keys only, for a
//	       user's messages (export, deletion of their data): written at a
//	       send and a purge, never by an update
//
// <prefix>conversations — the recipe's Conversations table.
//
//	key:   conversationId (S, hash)
//	attrs: name, participants (L of S, the recipe's), createdBy, createdAt,
//	       updatedAt, messageCount (N), and confab's lastSeq, lastMessage,
//	       lastMessageAt, purgedSeq, lastChangeSeq, and #15's directKey
//	       (a direct conversation's pair), settings (M: addMembers, post,
//	       react, slowMode; only what is not the default), archivedAt,
//	       deleting (BOOL: DeleteConversation is under way)
//	index UserConversations (recipe): userId + conversationId; kept, unused
//	       (the recipe never wrote userId on conversations)
//
// <prefix>users — the recipe's Users table.
//
//	key:   userId (S, hash); the recipe keys it by the Cognito sub
//	attrs: username, email, displayName, avatarUrl, isOnline, lastSeen,
//	       createdAt, updatedAt, hidePresence, hideReadReceipts, and
//	       confab's credentials: passwordHash, disabled, unconfirmed,
//	       passwordTemporary, srpSalt, srpVerifier, and #15's admin (BOOL)
//	       and addPolicy
//
// <prefix>confab — confab's own items, keyed pk (S) + sk (S), no index:
//
//	pk                    sk                 what
//	username#<lower(username)> -             uniqueness marker → userId (case-insensitive)
//	email#<lower email>   -                  uniqueness marker → userId
//	user#<userId>         conv#<convId>      membership: joinedAt, lastReadSeq, lastReadAt,
//	                                         mentions (NS: seqs of live messages mentioning it),
//	                                         role, mutedUntil, lastPostedAt (slow mode only)
//	user#<userId>         thread#<convId>\x00<rootId>  thread read mark: seq
//	user#<userId>         code#<purpose>     verification code
//	user#<userId>         token#<hash>       reference to a refresh token
//	user#<userId>         family#<familyId>  reference to a refresh family
//	user#<userId>         conn#<nodeId>      live connections, seenAt
//	node#<nodeId>         <userId>           reference to a connection count
//	rtoken#<hash>         -                  refresh token
//	family#<familyId>     -                  refresh family: user, authTime, revoked
//	ct#<convId>           <userId>\x00<tok>  clientToken marker → messageId
//	purge#floor           -                  oldest day retention must look at
//	chg#<convId>          <changeSeq, 20 digits>  change: kind, at, userId, messageId, reactionKey,
//	                                         memberId and member (M: the membership after it)
//	direct#<userA> <userB> -                 direct conversation marker → conversationId
//	user#<userId>         block#<blockedId>  block: createdAt
//	user#<userId>         blocks             the user's number of blocks: n
//	user#<userId>         inv#<convId>       invitation: invitedBy, role, createdAt
//	invited#<convId>      <userId>           reference to an invitation
//	ban#<convId>          <userId>           ban: bannedBy, reason, createdAt, until ("ban#": server-wide)
//	reports               <reportId>         report
//	audit                 <entryId>          audit entry; copies under audit#c#<convId>
//	                                         and audit#u#<userId>
//	msg#<convId>\x00<msgId> edit#<changeSeq>  earlier version: content, at, replacedAt
//	msg#<convId>\x00<msgId> react#<key>\x00<userId>  reaction: userId, key, at
//	msg#<convId>\x00<msgId> chg#<changeSeq>   reference to a change about the message
//	thread#<convId>\x00<rootId> <seq, 20 digits>  live reply: messageId, userId
//	upload#<uploadId>     -                  upload: userId, conversationId, fileName, contentType,
//	                                         size, createdAt, expiresAt, ready, width, height,
//	                                         thumbType, messageId (once attached)
//	convup#<convId>       u#<uploadId>       reference to an upload of the conversation
//	convup#<convId>       m#<msgId>\x00<uploadId>  attachment: a copy of the upload as attached
//	msgup#<msgId>         -                  a message's uploads: conversationId, uploadIds (L of S)
//	userup#<userId>       <createdAt>\x00<uploadId>  quota entry: size
//	upexp#<shard, 2 digits> <expiresAt>\x00<uploadId>  an upload not attached (ageShards shards)
//	updead                <uploadId>         an upload of a deleted or purged message
//	outbox#<shard>        <id, 20 digits>    pending outbox entry: channel, target, eventId, event,
//	                                         conversationId, at, data, attempts, notBefore, owner,
//	                                         leaseUntil, lastError, done, dead
//	outboxdone#<shard>    <id, 20 digits>    done or dead outbox entry, kept for replay until purged
//	outboxnode            outboxnode         the counter of Opens: n (the outbox IDs' node number)
//	webhook               <webhookId>        webhook: url, events (L of S), secret, createdAt,
//	                                         failures, disabledAt
//
// Markers carry no index keys, so the indexes stay sparse. NUL separates
// two ids in a key: no valid text holds it.
//
// # Access patterns
//
//	GetUser, GetCredentials          users GetItem (consistent)
//	GetUsers                         users BatchGetItem (consistent)
//	GetAccountByLogin                email marker, else username marker, then users GetItem
//	InsertAccount                    TransactWriteItems: user + both markers, attribute_not_exists
//	UpdateUser                       users UpdateItem, attribute_exists
//	UpdateCredentials                TransactWriteItems: user (condition on the old email) + marker move
//	DeleteAccount                    Query user#<id> (consistent), then TransactWriteItems of it all
//	ListAccounts                     users Scan (consistent), filtered and sorted in memory
//	verification codes               confab GetItem / Put / UpdateItem ADD / DeleteItem, conditional
//	refresh tokens                   confab items above; rotation is one transaction conditioned
//	                                 on the old token unused and the family not revoked
//	InsertConversation               users BatchGetItem, then TransactWriteItems: conversation + memberships
//	                                 (+ the direct marker, attribute_not_exists: one direct per pair)
//	GetDirectConversation            direct marker GetItem, then GetConversation
//	GetConversation                  conversations GetItem + BatchGetItem of the participants' memberships
//	ListConversations                Query user#<id> begins_with conv# (consistent) + BatchGetItem of the
//	                                 conversations, ordered by activity in memory
//	ListConversationIDs              Query user#<id> begins_with conv# (consistent, ordered by id)
//	MarkRead                         confab UpdateItem, condition lastReadSeq < seq; then one
//	                                 UpdateItem DELETE of the mentions now read, if any
//	AppendMessage                    TransactWriteItems (below); a reply reads its root first
//	GetMessage                       messages GetItem (consistent)
//	DeleteMessage, EditMessage,      one change (below): conversation GetItem (not for a
//	AddReaction, RemoveReaction,     reaction: it starts from the node's cached counters, as
//	UpdateConversation               appends do), message GetItem, what else it needs (the
//	                                 reaction item, the index's newest live message, a
//	                                 deletion's mentioned memberships), then TransactWriteItems
//	ListMessages, ListMessagesAfter  Query MessagesBySeq (eventually consistent)
//	ListChanges                      Query chg#<conv> (consistent) + BatchGetItem of its messages
//	ListMessageEdits                 Query msg#… begins_with edit# (consistent), newest first
//	ListReactions                    messages BatchGetItem (reactions only); BatchGetItem of the
//	                                 reader's reactions to keys with more reactors than kept;
//	                                 a Query of msg#… begins_with react# only for a read of
//	                                 more users than kept
//	ListThread                       Query thread#… (consistent) + BatchGetItem of the replies
//	MarkThreadRead                   confab UpdateItem, condition absent or seq < the new one
//	CountUnreadReplies               BatchGetItem of the roots (lastReplySeq) and of the marks,
//	                                 then a counting Query of thread#… per root with news
//	SearchMessages                   Query MessagesBySeq newest first, matched in Go (bounded)
//	SearchAllMessages                the same over each of the user's conversations, merged
//	PurgeMessages                    Query MessagesByAge by day and shard, then a transaction per
//	                                 conversation batch
//	AddMembers, RemoveMember,        one change each (below): memberships, participants, MEMBER_*
//	UpdateMembers                    changes and outbox events; 33 members a transaction (see membership.go)
//	ClaimOutbox                      Query outbox#<shard> (consistent, filtered) per shard, then an
//	                                 UpdateItem per entry, conditioned on the lease being free
//	Complete/GiveUpOutbox            GetItem, then TransactWriteItems: Delete (owner = the caller) +
//	                                 Put in outboxdone#<shard> + Put of each delivery
//	RetryOutbox                      UpdateItem conditioned on the owner
//	ListOutboxEvents, PurgeOutbox    Query of each shard's partitions from an ID / for old entries
//	webhooks                         Query webhook; Put / UpdateItem / Delete, conditional
//	blocks                           Put + count UpdateItem in one transaction (the limit);
//	                                 ListBlocks a Query; BlocksBetween one BatchGetItem
//	SharesConversation               Query of both users' memberships, intersected
//	invitations, bans                GetItem / Put / conditional Delete; lists a Query sorted in memory
//	reports, audit log               Put; lists a Query backwards from the cursor (a status or
//	                                 a second filter is a FilterExpression)
//	ListAllConversations             conversations Scan (ids), sorted in memory, then BatchGetItem
//	DeleteConversation               mark, Queries of what belongs to it, BatchWriteItem deletes,
//	                                 then the item (not one transaction: see admin.go)
//	ListUserMessages                 Query MessagesByUser + BatchGetItem of the messages
//	Usage                            Query MessagesByAge per day and shard, counting Scans of
//	                                 users and conversations
//	AdjustConnections                confab UpdateItem ADD, then Query user#<id> begins_with conn#
//	TouchConnections                 Query node#<id>, UpdateItem each count
//	uploads                          see "Uploads" below
//
// # Sequence numbers
//
// The conversation item is the counter. An append is one
// TransactWriteItems: the conversation's lastSeq goes from L to L+1 on the
// condition that it is L (with the preview, lastMessageAt and count, and
// lastChangeSeq, see below), the message is put on
// attribute_not_exists(messageId), and the clientToken marker on
// attribute_not_exists(pk) (DynamoDB's own ClientRequestToken dedupes for
// ten minutes only), with the MESSAGE_SENT change and the mentions. A
// node remembers the last counters per conversation and serialises its
// own appends (and changes) to a conversation, so in the
// common case an append is one call; a lost race with another node, or
// TransactionConflict and throttling, are retried with jittered backoff
// within Config.RetryWithin, then CodeUnavailable. Seqs are gapless under
// any concurrency. The cost is a ceiling per conversation: appends to one
// conversation are serial, each a transaction round trip (two write units
// per item written).
//
// # The change log
//
// Every change (store.go's Change) is an item chg#<conv> / ChangeSeq,
// written in the transaction of the change itself, with a reference under
// the message's partition (but MESSAGE_SENT: the message keeps its
// sentChangeSeq). The conversation item's lastChangeSeq is the
// counter, moved from C to C+n on the condition that lastSeq and
// lastChangeSeq are the values read. Every write to a message's content,
// deletion, reactions or thread counts is a change, so what a change read
// before its transaction (the message, its reaction counts, a reply's
// root) is still so when the condition holds: no lock, no second
// condition. A node runs its own edits, deletions, reactions and renames
// of a conversation in the line of its appends (see appender.go), one at a
// time, so they never lose the race to its own appends; another node's
// change makes the condition fail, and the change reads and tries again.
// Appends carry their changes in their batch: n messages move lastSeq by
// n and lastChangeSeq by n (a reply, which also changes its root, is
// appended alone and moves it by 2).
//
// Unread mentions are the membership's number set of the seqs of live
// messages that mention it; those above lastReadSeq count. An append adds
// the seq (on the condition that the membership exists), a deletion
// removes it, and MarkRead drops those read. The set holds unread
// mentions only, so its size is the member's unread mentions in that
// conversation: DynamoDB's 400 KB item limit caps it at tens of thousands
// (past that, a send mentioning the member fails until they read).
//
// Slow mode (Message.SlowMode) is a condition on the author's membership
// in the append's transaction: lastPostedAt absent or at least SlowMode
// before the message, and set to it. A refused send fails that condition
// and writes nothing; a send without slow mode writes no lastPostedAt. A
// batch holds at most one slow-mode message per author.
//
// # Uploads
//
// The store is a confab.UploadStore with the items above, all in the
// confab table (no index). What each call costs:
//
//	InsertUpload        TransactWriteItems of 5: a ConditionCheck that the conversation
//	                    exists (not being deleted), the upload (attribute_not_exists),
//	                    its convup# reference, quota and expiry entries
//	GetUpload           GetItem (consistent)
//	MarkUploadReady     GetItem, then TransactWriteItems of 2: the upload and its quota
//	                    entry's size
//	AttachUploads       BatchGetItem of the uploads (a refusal costs no write), then
//	                    TransactWriteItems of 3 per upload + 1: the upload's messageId on
//	                    the condition ready, not attached, owner, conversation, expiresAt
//	                    > now; its attachment copy; the removal of its expiry entry; and
//	                    the msgup# list. Any failed condition refuses all (CodeConflict).
//	                    At most 33 uploads a call (chat allows 10).
//	DetachUploads       GetItem msgup#, BatchGetItem, then one transaction undoing the
//	                    attach (the expiry entries come back)
//	ListMessageUploads  one Query of convup#<conv> between the smallest and largest
//	                    message id asked (ids are time-ordered: a page's are adjacent),
//	                    kept when asked; the copies are the uploads, no second read
//	SumUploadBytes      one Query of userup#<user> from since (sizes only)
//	ListDeadUploads     Query updead, then each upexp# shard below now, until limit;
//	                    BatchGetItem of those uploads
//	DeleteUpload        GetItem, BatchWriteItem of the items naming it, then the upload
//	                    (a failure half way leaves it listed as dead, to delete again)
//
// A deleted message's uploads become dead in its deletion's transaction
// (a Query of its attachments, one updead Put each). A purge marks the
// uploads of each batch dead just before its transaction, with one Query
// of the batch's attachments (the transaction has no room for them):
// should the purge then fail, files of messages already past retention
// go a little early, but none is left behind for good.
// DeleteConversation reads convup#<conv> and the uploads, deletes all
// their items and returns their ids; Usage's StorageBytes is a Scan
// of the attachment copies.
//
// # Outbox
//
// Every change that has an outbox event (confab.OutboxStore lists them)
// puts it in its own transaction, one more item: a send's batch holds one
// per message, AddMembers one per member (so 33 members a transaction).
// An entry's ID is time-ordered, not counted (see outboxIDs in outbox.go):
// no item is written by every change, and the Put needs no condition, so
// an event costs one write unit and no read. Entries are spread over
// outboxShards partitions by a hash of the ID; a pending entry lives under
// outbox#<shard>, and the transaction that completes or gives it up moves
// it to outboxdone#<shard> (an event no channel wanted is deleted), so a
// claim's Query of each shard reads only pending entries. A claim leases
// each candidate with an UpdateItem conditioned on notBefore and an
// expired (or absent) lease, so two nodes never hold one entry; settling
// is conditioned on the owner. Webhooks are one partition, listed by one
// Query. The price of the shards is the claim's: an idle worker's poll is
// outboxShards consistent Queries (8 read units a second per node at the
// worker's default poll of 1 s).
//
// # Consistency
//
// Table reads that must see the latest write (accounts, tokens, codes,
// conversations, memberships, GetMessage) are consistent reads. Index
// reads are eventually consistent: ListMessagesAfter (a subscription's
// resume) therefore stops before the first missing seq instead of
// skipping it, unless the seq is at or below the conversation's purgedSeq
// (retention removed it for good); the stream's gap fill asks again.
// DeleteMessage and PurgeMessages recompute the preview from the index
// only once it holds the conversation's lastSeq, and retry until then.
//
// # Search
//
// DynamoDB has no text index. SearchMessages reads the conversation's
// newest SearchScanLimit messages at most and matches them with the word
// rule of the other stores (confab.SearchWords and confab.Words, case- and
// diacritic-folded): honest but bounded. SearchAllMessages does the same
// for each of the user's conversations (queryConcurrency at a time), so
// its cost grows with them. An edit replaces the content in place and a
// deletion sets the flag both skip, so search follows at once. OpenSearch,
// the recipe's Challenge, can sit behind the same contract later.
//
// # Retention
//
// PurgeMessages deletes each batch of messages in one transaction with
// its conversation's update (see purge.go), then what belonged to them:
// the items of their partitions and the changes they reference, a reply's
// thread reference, their seqs in unread mentions. These do not fit the
// transaction; if that second step fails, what is left is invisible
// (every read starts from a message, and ListChanges skips a change whose
// message is gone) and only takes space.
//
// # Errors
//
// Conditional failures become the contract's codes (CodeConflict,
// CodeNotFound); throttling, TransactionConflict, service errors and
// unreachable endpoints are retried, then CodeUnavailable, as is a missing
// table; anything else is CodeInternal wrapping the SDK error for the log.
// A store error never carries a user-facing Message, so no AWS text
// reaches a client.
//
// # Recipe data
//
// Items the recipe wrote are read as they are: ISO timestamps with or
// without milliseconds, a conversation without lastSeq (the first append
// gives seq 1), a message without seq (read by GetMessage with seq 0, but
// absent from MessagesBySeq, so not listed). Memberships and seqs for the
// recipe's history come from `confab migrate --from-dynamodb`, which
// writes through this store.
package dynamodb
