package dynamodb

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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

func messageItem(m *confab.Message, seq int64) item {
	it := item{
		"conversationId": avS(m.ConversationID), "messageId": avS(m.MessageID), "seq": avN(seq),
		"userId": avS(m.UserID), "content": avS(m.Content), "messageType": avS(string(m.MessageType)),
		"createdAt": avT(m.CreatedAt), "deleted": avB(m.Deleted),
		"ageBucket": avS(ageBucket(m.ConversationID, m.CreatedAt)),
	}
	putOpt(it, "updatedAt", m.UpdatedAt, avT)
	if m.ClientToken != "" {
		it["clientToken"] = avS(m.ClientToken)
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
		ClientToken: getS(it, "clientToken"),
	}
}

// appendOne appends m alone (see AppendMessage) in one TransactWriteItems:
//
//  1. the conversation: lastSeq from L to L+1 on the condition that it is
//     still L, with the summary and count;
//  2. the message, on attribute_not_exists;
//  3. the clientToken marker, on attribute_not_exists (DynamoDB's own
//     ClientRequestToken only dedupes for ten minutes).
//
// L is the value this node last saw (see stripe), read consistently when
// it has none. A failed (1) is a lost race (another node appended) or a
// stale L: it reads the conversation and retries with jittered backoff. A
// failed (3) is a retry of a send: it is answered with the stored message.
func (s *Store) appendOne(ctx context.Context, st *stripe, m *confab.Message) (bool, error) {
	const op = "append message"
	created := false
	err := s.retry(ctx, op, func() error {
		last, err := s.lastSeq(ctx, st, m.ConversationID)
		if err != nil {
			return err
		}
		_, err = s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: s.appendWrites([]*confab.Message{m}, last)})
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
			return err
		}
		st.remember(m.ConversationID, last+1)
		m.Seq, created = last+1, true
		return nil
	})
	return created, err
}

// lastSeq returns the conversation's lastSeq as this node last saw it, or
// as a consistent read finds it.
func (s *Store) lastSeq(ctx context.Context, st *stripe, conversationID string) (int64, error) {
	if last, ok := st.cached(conversationID); ok {
		return last, nil
	}
	conv, err := s.get(ctx, "append message", s.t.conversations, convKey(conversationID))
	if err != nil {
		return 0, err
	}
	if conv == nil {
		return 0, notFound("conversation")
	}
	return getN(conv, "lastSeq"), nil
}

// appendWrites are the items that append msgs (of one conversation, in
// order) after seq last: the conversation's update first, then each
// message and its clientToken marker.
func (s *Store) appendWrites(msgs []*confab.Message, last int64) []types.TransactWriteItem {
	n := int64(len(msgs))
	newest := msgs[n-1]
	u := newUpdate().set("lastSeq", avN(last+n)).
		set("lastMessage", avS(confab.Preview(newest.Content))).set("lastMessageAt", avT(newest.CreatedAt))
	u.setExpr("messageCount", "if_not_exists("+u.name("messageCount")+", "+u.value(avN(0))+") + "+u.value(avN(n)))
	tx := []types.TransactWriteItem{{Update: u.txUpdate(s.t.conversations, convKey(newest.ConversationID), lastSeqIs(u, last))}}
	for i, m := range msgs {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.messages, Item: messageItem(m, last+1+int64(i)),
			ConditionExpression: aws.String("attribute_not_exists(messageId)")}})
		if m.ClientToken != "" {
			tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab,
				Item:                with(clientTokenKey(m.ConversationID, m.UserID, m.ClientToken), item{"messageId": avS(m.MessageID)}),
				ConditionExpression: aws.String("attribute_not_exists(pk)")}})
		}
	}
	return tx
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

// DeleteMessage implements confab.MessageStore in one transaction: the
// message marked deleted on the condition that it was not, and the
// conversation's count and preview on the condition that lastSeq is the
// one read (an append in between makes it read again).
func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
	const op = "delete message"
	st := s.stripe(conversationID)
	st.Lock()
	defer st.Unlock()
	var m *confab.Message
	err := s.retry(ctx, op, func() error {
		conv, err := s.get(ctx, op, s.t.conversations, convKey(conversationID))
		if err != nil {
			return err
		}
		if m, err = s.GetMessage(ctx, conversationID, messageID); err != nil || conv == nil {
			return cmp.Or(err, notFound("message"))
		}
		newest, err := s.newestLive(ctx, op, conv, map[string]bool{messageID: true})
		if err != nil {
			return err
		}
		mu := newUpdate().set("deleted", avB(true)).set("updatedAt", avT(at))
		cu := newUpdate().add("messageCount", -1)
		setPreview(cu, newest, true)
		_, err = s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: mu.txUpdate(s.t.messages, msgKey(conversationID, messageID),
				"attribute_exists(messageId) AND NOT "+mu.name("deleted")+" = "+mu.value(avB(true)))},
			{Update: cu.txUpdate(s.t.conversations, convKey(conversationID), lastSeqIs(cu, getN(conv, "lastSeq")))},
		}})
		switch {
		case conditionFailed(err, 0):
			return notFound("message")
		case conditionFailed(err, 1):
			return errLostRace
		}
		return err
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
	return s.querySeq(ctx, "list messages", conversationID, cmpOp, beforeSeq, false, limit, func(m *confab.Message) bool { return !m.Deleted })
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
	if err != nil || conv == nil {
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
