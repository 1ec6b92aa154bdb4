package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/confab-chat/confab"
)

func msgKey(conversationID, messageID string) item {
	return item{"conversationId": avS(conversationID), "messageId": avS(messageID)}
}

// clientTokenKey is the idempotency marker of (conversation, user,
// token). NUL separates user and token: no valid text holds it.
func clientTokenKey(conversationID, userID, token string) item {
	return key("ct#"+conversationID, userID+"\x00"+token)
}

func messageItem(m *confab.Message, seq, changeSeq int64) item {
	it := item{
		"conversationId": avS(m.ConversationID), "messageId": avS(m.MessageID), "seq": avN(seq),
		"changeSeq": avN(changeSeq), "sentChangeSeq": avN(changeSeq),
		"userId": avS(m.UserID), "content": avS(m.Content), "messageType": avS(string(m.MessageType)),
		"createdAt": avT(m.CreatedAt), "deleted": avB(m.Deleted),
		"ageBucket": avS(ageBucket(m.ConversationID, m.CreatedAt)),
	}
	putOpt(it, "updatedAt", m.UpdatedAt, avT)
	if m.ClientToken != "" {
		it["clientToken"] = avS(m.ClientToken)
	}
	if len(m.Mentions) > 0 {
		it["mentions"] = avList(m.Mentions)
	}
	if m.ParentMessageID != "" {
		it["parentMessageId"] = avS(m.ParentMessageID)
		it["alsoInConversation"] = avB(m.AlsoInConversation)
	}
	return it
}

// readMessage reads a message item. One the recipe wrote has no seq (0)
// until `confab migrate` numbers it, and no deleted flag.
func readMessage(it item) *confab.Message {
	return &confab.Message{
		MessageID: getS(it, "messageId"), ConversationID: getS(it, "conversationId"), Seq: getN(it, "seq"),
		UserID: getS(it, "userId"), Content: getS(it, "content"), MessageType: confab.MessageType(getS(it, "messageType")),
		CreatedAt: getT(it, "createdAt"), UpdatedAt: getTP(it, "updatedAt"), Deleted: getB(it, "deleted"),
		ClientToken: getS(it, "clientToken"), ChangeSeq: getN(it, "changeSeq"), EditedAt: getTP(it, "editedAt"),
		Mentions: getList(it, "mentions"), ParentMessageID: getS(it, "parentMessageId"),
		AlsoInConversation: getB(it, "alsoInConversation"), ReplyCount: int(getN(it, "replyCount")),
		LastReplyAt: getTP(it, "lastReplyAt"), ReplyUserIDs: getList(it, "replyUserIds"), DeletedBy: getS(it, "deletedBy"),
	}
}

// appendOne appends m alone (see AppendMessage) in one TransactWriteItems:
//
//  1. the conversation: lastSeq and lastChangeSeq moved on the condition
//     that they are still the values last seen, with the summary and count;
//  2. the message, on attribute_not_exists;
//  3. the clientToken marker, on attribute_not_exists (DynamoDB's own
//     ClientRequestToken only dedupes for ten minutes);
//  4. the rest of appendWrites: the change, the message.sent outbox
//     event, mentions, a reply's thread.
//
// The counters are the values this node last saw (see stripe), read
// consistently when it has none. A failed (1) is a lost race (another
// node appended, or another change was made) or a stale value: it reads
// the conversation and retries with jittered backoff. A failed (3) is a
// retry of a send: it is answered with the stored message. A reply's root
// is read first: it must be live (CodeNotFound otherwise); as every change
// to it moves the counters, the root read is still so at commit.
func (s *Store) appendOne(ctx context.Context, st *stripe, m *confab.Message) (bool, error) {
	const op = "append message"
	created := false
	err := s.retry(ctx, op, func() error {
		last, err := s.counters(ctx, st, m.ConversationID)
		if err != nil {
			return err
		}
		var root *confab.Message
		if m.ParentMessageID != "" {
			if root, err = s.GetMessage(ctx, m.ConversationID, m.ParentMessageID); err != nil {
				return s.retried(ctx, m, err)
			}
		}
		t := s.newChangeTx(nil, last)
		mentions := s.appendWrites(t, []*confab.Message{m}, root)
		_, err = s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: t.writes(m.ConversationID)})
		switch {
		case m.ClientToken != "" && conditionFailed(err, 2):
			stored, err := s.byClientToken(ctx, m)
			if err != nil || stored == nil {
				return cmp.Or(err, errLostRace) // purged meanwhile: append anew
			}
			*m = *stored
			return nil
		case conditionFailed(err, 0):
			st.forget(m.ConversationID)
			return errLostRace
		case conditionFailed(err, 1):
			return conflict(op, "message id already used")
		case err != nil:
			st.forget(m.ConversationID)
			for i, uid := range mentions {
				if conditionFailed(err, i) && uid == m.UserID && m.SlowMode > 0 { // the author is never mentioned
					return &confab.Error{Code: confab.CodeLimited, Op: op, Err: errSlowMode}
				}
				if conditionFailed(err, i) { // no longer a member: not mentioned
					m.Mentions = slices.DeleteFunc(slices.Clone(m.Mentions), func(id string) bool { return id == uid })
				}
			}
			if slices.Contains(cancelReasons(err), "ConditionalCheckFailed") {
				return errLostRace // a mention dropped, or the root gone: read and build again
			}
			return err
		}
		st.remember(m.ConversationID, counters{seq: last.seq + 1, change: last.change + t.n})
		m.Seq, m.ChangeSeq, created = last.seq+1, last.change+1, true
		return nil
	})
	return created, err
}

var errSlowMode = errors.New("dynamodb: the author posted less than the slow mode ago")

// retried answers a send that cannot be appended (err, its root gone)
// with the stored message when it is a retry of one that was: *m becomes
// it. Otherwise it returns err.
func (s *Store) retried(ctx context.Context, m *confab.Message, err error) error {
	if m.ClientToken == "" || confab.ErrorCode(err) != confab.CodeNotFound {
		return err
	}
	stored, serr := s.byClientToken(ctx, m)
	if serr != nil || stored == nil {
		return cmp.Or(serr, err)
	}
	*m = *stored
	return nil
}

// counters returns the conversation's counters as this node last saw
// them, or as a consistent read finds them.
func (s *Store) counters(ctx context.Context, st *stripe, conversationID string) (counters, error) {
	if c, ok := st.cached(conversationID); ok {
		return c, nil
	}
	conv, err := s.get(ctx, "append message", s.t.conversations, convKey(conversationID))
	if err != nil {
		return counters{}, err
	}
	if gone(conv) {
		return counters{}, notFound("conversation")
	}
	return readCounters(conv), nil
}

// appendWrites adds to t what appends msgs (of one conversation, in
// order) after t's counters: the conversation's seq, summary and count;
// each message, its clientToken marker, MESSAGE_SENT change and
// message.sent outbox event; the
// mentioned members' unread mentions (one update per member, on the
// condition that the membership exists); and for a reply (alone in its
// transaction; root is its root as read) the thread's reference, the
// root's counts, and its THREAD_UPDATED change. It returns the member of
// each membership update, by transaction item index (the conversation's
// update is item 0).
func (s *Store) appendWrites(t *changeTx, msgs []*confab.Message, root *confab.Message) map[int]string {
	n := int64(len(msgs))
	newest := msgs[n-1]
	t.cu.set("lastSeq", avN(t.at.seq+n)).
		set("lastMessage", avS(confab.Preview(newest.Content))).set("lastMessageAt", avT(newest.CreatedAt))
	t.cu.setExpr("messageCount", "if_not_exists("+t.cu.name("messageCount")+", "+t.cu.value(avN(0))+") + "+t.cu.value(avN(n)))
	mentioned := map[string][]int64{}
	var order []string
	for i, m := range msgs {
		seq := t.at.seq + 1 + int64(i)
		changeSeq := t.at.change + t.n + 1
		t.put(&s.t.messages, messageItem(m, seq, changeSeq), "attribute_not_exists(messageId)")
		if m.ClientToken != "" {
			t.put(&s.t.confab, with(clientTokenKey(m.ConversationID, m.UserID, m.ClientToken), item{"messageId": avS(m.MessageID)}),
				"attribute_not_exists(pk)")
		}
		t.log(&confab.Change{ConversationID: m.ConversationID, Kind: confab.ChangeMessageSent, At: m.CreatedAt,
			UserID: m.UserID, MessageID: m.MessageID})
		sent := *m
		sent.Seq = seq
		t.outbox(confab.NewMessageEvent(confab.OutboxMessageSent, &sent, m.CreatedAt))
		for _, uid := range m.Mentions {
			seqs := mentioned[uid]
			if uid == m.UserID || len(seqs) > 0 && seqs[len(seqs)-1] == seq { // the author, or named twice
				continue
			}
			if seqs == nil {
				order = append(order, uid)
			}
			mentioned[uid] = append(seqs, seq)
		}
		if m.ParentMessageID != "" && root != nil {
			s.replyWrites(t, m, seq, root)
		}
	}
	slowed := map[string]*confab.Message{} // at most one message per author in a batch (takeBatch)
	for _, m := range msgs {
		if m.SlowMode > 0 {
			if mentioned[m.UserID] == nil {
				order = append(order, m.UserID)
			}
			slowed[m.UserID] = m
		}
	}
	members := map[int]string{}
	for _, uid := range order {
		members[len(t.items)+1] = uid
		u, cond := newUpdate(), "attribute_exists(pk)"
		if seqs := mentioned[uid]; len(seqs) > 0 {
			u.addSet("mentions", seqs)
		}
		if m := slowed[uid]; m != nil {
			cond += " AND " + slowModeAllows(u, m)
			u.set("lastPostedAt", avT(m.CreatedAt))
		}
		t.update(s.t.confab, memberKey(newest.ConversationID, uid), u, cond)
	}
	return members
}

// slowModeAllows is the condition that m's author may post m in slow
// mode: their membership's lastPostedAt is absent or at least m.SlowMode
// before m.CreatedAt (times are fixed-width ISO strings: string order is
// time order). The append sets lastPostedAt in the same transaction, so
// a refused message writes nothing, and a conversation without slow mode
// writes no lastPostedAt.
func slowModeAllows(u *update, m *confab.Message) string {
	n := u.name("lastPostedAt")
	return "(attribute_not_exists(" + n + ") OR " + n + " <= " + u.value(avT(m.CreatedAt.Add(-m.SlowMode))) + ")"
}

// replyWrites adds to t the thread of reply m (seq seq): its reference
// under the thread's partition (see threadPK), and the root's counts with
// its THREAD_UPDATED change, on the condition that the root is still live.
func (s *Store) replyWrites(t *changeTx, m *confab.Message, seq int64, root *confab.Message) {
	t.put(&s.t.confab, with(key(threadPK(m.ConversationID, root.MessageID), seqKey(seq)),
		item{"messageId": avS(m.MessageID), "userId": avS(m.UserID)}), "")
	users := []string{m.UserID}
	for _, u := range root.ReplyUserIDs {
		if u != m.UserID && len(users) < confab.MaxReplyUsers {
			users = append(users, u)
		}
	}
	changeSeq := t.log(&confab.Change{ConversationID: m.ConversationID, Kind: confab.ChangeThreadUpdated, At: m.CreatedAt,
		UserID: m.UserID, MessageID: root.MessageID})
	u := newUpdate().set("replyCount", avN(int64(root.ReplyCount)+1)).set("lastReplyAt", avT(m.CreatedAt)).
		set("replyUserIds", avList(users)).set("lastReplySeq", avN(seq)).set("changeSeq", avN(changeSeq))
	t.update(s.t.messages, msgKey(m.ConversationID, root.MessageID), u, isLive(u))
}

// isLive is the condition that a message item exists and is not deleted.
func isLive(u *update) string {
	return "attribute_exists(messageId) AND NOT " + u.name("deleted") + " = " + u.value(avB(true))
}

// lastSeqIs is the condition that the conversation's lastSeq is still
// last (for a recipe conversation never written by confab: absent).
func lastSeqIs(u *update, last int64) string {
	c := u.name("lastSeq") + " = " + u.value(avN(last))
	if last == 0 {
		c = "(attribute_not_exists(" + u.name("lastSeq") + ") OR " + c + ")"
	}
	return c
}

// byClientToken returns the stored message of m's conversation and user
// with m's ClientToken, or nil when there is none.
func (s *Store) byClientToken(ctx context.Context, m *confab.Message) (*confab.Message, error) {
	const op = "append message"
	marker, err := s.get(ctx, op, s.t.confab, clientTokenKey(m.ConversationID, m.UserID, m.ClientToken))
	if err != nil || marker == nil {
		return nil, err
	}
	it, err := s.get(ctx, op, s.t.messages, msgKey(m.ConversationID, getS(marker, "messageId")))
	if err != nil {
		return nil, err
	}
	if it == nil {
		return nil, fmt.Errorf("dynamodb: %s: the message of a client token marker is missing", op)
	}
	return readMessage(it), nil
}

// GetMessage implements confab.MessageStore with a consistent read.
func (s *Store) GetMessage(ctx context.Context, conversationID, messageID string) (*confab.Message, error) {
	it, err := s.get(ctx, "get message", s.t.messages, msgKey(conversationID, messageID))
	if err != nil {
		return nil, err
	}
	if it == nil || getB(it, "deleted") {
		return nil, notFound("message")
	}
	return readMessage(it), nil
}

// DeleteMessage implements confab.MessageStore as one change (see
// commitChange): the message marked deleted (on the condition that it is
// live; deletedBy set when a moderator deleted it), the conversation's count and preview (the newest live message
// left, read from the index once it holds lastSeq), the MESSAGE_DELETED
// change, the message's seq removed from its mentioned members' unread
// mentions, and for a reply its thread reference removed and the root's
// ReplyCount lowered, with the root's THREAD_UPDATED change.
func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID, byUserID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
	const op = "delete message"
	var m *confab.Message
	err := s.commitChange(ctx, op, conversationID, func(t *changeTx) error {
		var err error
		if m, err = s.GetMessage(ctx, conversationID, messageID); err != nil {
			return err
		}
		newest, err := s.newestLive(ctx, op, t.conv, map[string]bool{messageID: true})
		if err != nil {
			return err
		}
		t.cu.add("messageCount", -1)
		setPreview(t.cu, newest, true)
		by := cmp.Or(byUserID, m.UserID)
		m.ChangeSeq = t.log(&confab.Change{ConversationID: conversationID, Kind: confab.ChangeMessageDeleted, At: at,
			UserID: by, MessageID: messageID})
		mu := newUpdate().set("deleted", avB(true)).set("updatedAt", avT(at)).set("changeSeq", avN(m.ChangeSeq))
		if by != m.UserID { // a moderator's: the tombstone says so
			m.DeletedBy = by
			mu.set("deletedBy", avS(by))
		}
		t.update(s.t.messages, msgKey(conversationID, messageID), mu, isLive(mu))
		dead, err := s.deadUploadWrites(ctx, op, conversationID, []string{messageID})
		if err != nil {
			return err
		}
		t.items = append(t.items, dead...)
		t.outbox(confab.NewMessageEvent(confab.OutboxMessageDeleted, m, at))
		if err := s.unmention(ctx, op, t, m); err != nil {
			return err
		}
		if m.ParentMessageID != "" {
			return s.unreply(ctx, op, t, m, at)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	c, err := s.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, nil, err
	}
	return m, c, nil
}

// unmention adds to t the removal of m's seq from the unread mentions of
// each member it mentions who still has it.
func (s *Store) unmention(ctx context.Context, op string, t *changeTx, m *confab.Message) error {
	var keys []item
	for _, uid := range m.Mentions {
		keys = append(keys, memberKey(m.ConversationID, uid))
	}
	members, err := s.batchGet(ctx, op, s.t.confab, keys)
	if err != nil {
		return err
	}
	for _, mem := range members {
		if slices.Contains(getNS(mem, "mentions"), m.Seq) {
			u := newUpdate().deleteSet("mentions", []int64{m.Seq})
			t.update(s.t.confab, key(getS(mem, "pk"), getS(mem, "sk")), u, "attribute_exists(pk)")
		}
	}
	return nil
}

// unreply adds to t the removal of reply m from its thread: its reference,
// and the root's ReplyCount lowered with a THREAD_UPDATED change (when
// the root is still there, deleted or not).
func (s *Store) unreply(ctx context.Context, op string, t *changeTx, m *confab.Message, at time.Time) error {
	t.delete(s.t.confab, key(threadPK(m.ConversationID, m.ParentMessageID), seqKey(m.Seq)))
	it, err := s.get(ctx, op, s.t.messages, msgKey(m.ConversationID, m.ParentMessageID))
	if err != nil || it == nil {
		return err
	}
	changeSeq := t.log(&confab.Change{ConversationID: m.ConversationID, Kind: confab.ChangeThreadUpdated, At: at,
		UserID: m.UserID, MessageID: m.ParentMessageID})
	u := newUpdate().set("replyCount", avN(max(getN(it, "replyCount")-1, 0))).set("changeSeq", avN(changeSeq))
	t.update(s.t.messages, msgKey(m.ConversationID, m.ParentMessageID), u, "attribute_exists(messageId)")
	return nil
}

// setPreview sets the conversation's lastMessage to the preview of newest
// (removes it when nil), and lastMessageAt too when withTime.
func setPreview(u *update, newest *confab.Message, withTime bool) {
	if newest == nil {
		u.remove("lastMessage")
		if withTime {
			u.remove("lastMessageAt")
		}
		return
	}
	u.set("lastMessage", avS(confab.Preview(newest.Content)))
	if withTime {
		u.set("lastMessageAt", avT(newest.CreatedAt))
	}
}

// newestLive returns the live message of the conversation (its item
// conv) with the highest seq whose id is not in skip, or nil. It reads the
// eventually consistent MessagesBySeq index, so it first checks that the
// index holds the conversation's lastSeq (unless a purge removed it): if
// not, the index lags behind a recent append, and it returns errLostRace
// to be retried rather than a preview that is not the newest.
func (s *Store) newestLive(ctx context.Context, op string, conv item, skip map[string]bool) (*confab.Message, error) {
	top := int64(0)
	msgs, err := s.querySeq(ctx, op, getS(conv, "conversationId"), "", 0, false, 1, func(m *confab.Message) bool {
		top = max(top, m.Seq)
		return !m.Deleted && !skip[m.MessageID]
	})
	if err != nil {
		return nil, err
	}
	if last := getN(conv, "lastSeq"); top < last && last > getN(conv, "purgedSeq") {
		return nil, errLostRace
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	return msgs[0], nil
}

// querySeq queries the MessagesBySeq index of the conversation, newest
// first unless forward, for seqs cmp ("<" or ">", "" for all) than bound,
// and returns up to limit messages that keep accepts. It reads at most
// maxRead items when maxRead > 0. Index reads are eventually consistent.
func (s *Store) querySeq(ctx context.Context, op, conversationID, cmpOp string, bound int64, forward bool, limit int,
	keep func(*confab.Message) bool) ([]*confab.Message, error) {
	return s.querySeqBounded(ctx, op, conversationID, cmpOp, bound, forward, limit, 0, keep)
}

func (s *Store) querySeqBounded(ctx context.Context, op, conversationID, cmpOp string, bound int64, forward bool, limit, maxRead int,
	keep func(*confab.Message) bool) ([]*confab.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	in := &ddb.QueryInput{TableName: &s.t.messages, IndexName: aws.String(messagesBySeqIndex),
		KeyConditionExpression:    aws.String("conversationId = :c"),
		ExpressionAttributeValues: item{":c": avS(conversationID)},
		ScanIndexForward:          aws.Bool(forward), Limit: aws.Int32(int32(min(max(limit, 25), 1000)))}
	if maxRead > 0 { // a filtering scan: few pages of many items
		in.Limit = aws.Int32(int32(min(maxRead, 200)))
	}
	if cmpOp != "" {
		in.KeyConditionExpression = aws.String("conversationId = :c AND #seq " + cmpOp + " :b")
		in.ExpressionAttributeNames = map[string]string{"#seq": "seq"}
		in.ExpressionAttributeValues[":b"] = avN(bound)
	}
	var msgs []*confab.Message
	read := 0
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(msgs) < limit && (maxRead <= 0 || read < maxRead) {
		var out *ddb.QueryOutput
		err := s.retry(ctx, op, func() error {
			var err error
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			read++
			if m := readMessage(it); keep(m) {
				msgs = append(msgs, m)
				if len(msgs) == limit {
					break
				}
			}
			if maxRead > 0 && read >= maxRead {
				break
			}
		}
	}
	return msgs, nil
}

// ListMessages implements confab.MessageStore on the MessagesBySeq index.
func (s *Store) ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*confab.Message, error) {
	cmpOp := "<"
	if beforeSeq <= 0 {
		cmpOp = ""
	}
	return s.querySeq(ctx, "list messages", conversationID, cmpOp, beforeSeq, false, limit,
		func(m *confab.Message) bool { return !m.Deleted && m.InTimeline() })
}

// ListMessagesAfter implements confab.MessageStore on the MessagesBySeq
// index. The index is eventually consistent, so a message just appended
// may be missing while a later one is there; a resume must not skip it.
// The result therefore stops before the first missing seq, unless that
// seq is at or below the conversation's purgedSeq (the highest seq a
// purge removed: missing for good).
func (s *Store) ListMessagesAfter(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]*confab.Message, error) {
	const op = "list messages after"
	if limit <= 0 {
		return nil, nil
	}
	conv, err := s.get(ctx, op, s.t.conversations, convKey(conversationID))
	if err != nil || gone(conv) {
		return nil, err
	}
	purged := getN(conv, "purgedSeq")
	msgs, err := s.querySeq(ctx, op, conversationID, ">", afterSeq, true, limit, func(*confab.Message) bool { return true })
	if err != nil {
		return nil, err
	}
	next := afterSeq + 1
	for i, m := range msgs {
		if m.Seq != next && m.Seq-1 > purged {
			return msgs[:i], nil
		}
		next = m.Seq + 1
	}
	return msgs, nil
}
