package dynamodb

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/confab-chat/confab"
)

// A thread is a partition of the confab table, pk threadPK, with one
// reference per live reply: sk its seq (seqKey), holding its messageId and
// userId. The reply's append writes it, its deletion removes it, so
// ListThread is one consistent Query and a batch read of the messages.
// The root's item keeps replyCount, lastReplyAt, replyUserIds and
// lastReplySeq (the highest seq of a reply ever, so that a thread with
// nothing new is counted without a Query).
//
// A user's read mark in a thread is an item of the user's partition, sk
// "thread#<conversationId>\x00<rootId>", holding seq.
func threadPK(conversationID, rootID string) string {
	return "thread#" + conversationID + "\x00" + rootID
}

func threadMarkKey(conversationID, rootID, userID string) item {
	return key(userPK(userID), threadPK(conversationID, rootID))
}

// queryConcurrency bounds the Queries a read of a page (reactions, unread
// replies) runs at once.
const queryConcurrency = 8

// ListThread implements confab.ChangeStore.
func (s *Store) ListThread(ctx context.Context, conversationID, rootID string, p confab.ThreadPage) ([]*confab.Message, error) {
	const op = "list thread"
	if p.Limit <= 0 {
		return nil, nil
	}
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(min(p.Limit, 1000))),
		ScanIndexForward:          aws.Bool(!p.NewestFirst),
		KeyConditionExpression:    aws.String("pk = :pk AND sk > :after"),
		ExpressionAttributeValues: item{":pk": avS(threadPK(conversationID, rootID)), ":after": avS(seqKey(p.AfterSeq))}}
	if p.NewestFirst {
		in.KeyConditionExpression = aws.String("pk = :pk")
		delete(in.ExpressionAttributeValues, ":after")
		if p.BeforeSeq > 0 {
			in.KeyConditionExpression = aws.String("pk = :pk AND sk < :before")
			in.ExpressionAttributeValues[":before"] = avS(seqKey(p.BeforeSeq))
		}
	}
	var replies []*confab.Message
	pages := ddb.NewQueryPaginator(s.db, in)
	for pages.HasMorePages() && len(replies) < p.Limit {
		var out *ddb.QueryOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = pages.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		msgs, err := s.messagesInOrder(ctx, op, conversationID, out.Items)
		if err != nil {
			return nil, err
		}
		replies = append(replies, msgs...)
	}
	return replies[:min(len(replies), p.Limit)], nil
}

// messagesInOrder reads the live messages that refs (items with a
// messageId) name, in refs' order.
func (s *Store) messagesInOrder(ctx context.Context, op, conversationID string, refs []item) ([]*confab.Message, error) {
	keys := make([]item, len(refs))
	for i, r := range refs {
		keys[i] = msgKey(conversationID, getS(r, "messageId"))
	}
	items, err := s.batchGet(ctx, op, s.t.messages, keys)
	if err != nil {
		return nil, err
	}
	byID := map[string]*confab.Message{}
	for _, it := range items {
		m := readMessage(it)
		byID[m.MessageID] = m
	}
	var msgs []*confab.Message
	for _, r := range refs {
		if m := byID[getS(r, "messageId")]; m != nil && !m.Deleted {
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

// MarkThreadRead implements confab.ChangeStore: one conditional write
// that only raises the mark.
func (s *Store) MarkThreadRead(ctx context.Context, conversationID, rootID, userID string, seq int64) error {
	const op = "mark thread read"
	u := newUpdate().set("seq", avN(seq))
	in := u.input(s.t.confab, threadMarkKey(conversationID, rootID, userID),
		"attribute_not_exists(pk) OR "+u.name("seq")+" < "+u.value(avN(seq)))
	err := s.retry(ctx, op, func() error { _, err := s.db.UpdateItem(ctx, in); return err })
	if isConditionFailed(err) {
		return nil // already at or past seq
	}
	return err
}

// CountUnreadReplies implements confab.ChangeStore: a batch read of the
// roots and one of the user's marks, then, only for the roots with a reply
// above the mark, one counting Query of the thread's references above it
// (by other users), concurrently.
func (s *Store) CountUnreadReplies(ctx context.Context, conversationID, userID string, rootIDs []string) (map[string]int, error) {
	const op = "count unread replies"
	var rootKeys, markKeys []item
	for _, id := range slices.Compact(slices.Sorted(slices.Values(rootIDs))) {
		rootKeys = append(rootKeys, msgKey(conversationID, id))
		markKeys = append(markKeys, threadMarkKey(conversationID, id, userID))
	}
	roots, err := s.batchGet(ctx, op, s.t.messages, rootKeys, "messageId", "lastReplySeq")
	if err != nil {
		return nil, err
	}
	marks, err := s.batchGet(ctx, op, s.t.confab, markKeys)
	if err != nil {
		return nil, err
	}
	seen := map[string]int64{}
	for _, m := range marks {
		seen[getS(m, "sk")[strings.LastIndexByte(getS(m, "sk"), 0)+1:]] = getN(m, "seq")
	}
	counts := make([]int, len(roots))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	for i, r := range roots {
		id := getS(r, "messageId")
		if getN(r, "lastReplySeq") <= seen[id] {
			continue
		}
		g.Go(func() error {
			n, err := s.countReplies(gctx, op, threadPK(conversationID, id), seen[id], userID)
			counts[i] = n
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	unread := map[string]int{}
	for i, r := range roots {
		if counts[i] > 0 {
			unread[getS(r, "messageId")] = counts[i]
		}
	}
	return unread, nil
}

// countReplies counts the references of thread pk above seq by other
// users than userID.
func (s *Store) countReplies(ctx context.Context, op, pk string, after int64, userID string) (int, error) {
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true), Select: types.SelectCount,
		KeyConditionExpression:    aws.String("pk = :pk AND sk > :after"),
		FilterExpression:          aws.String("userId <> :u"),
		ExpressionAttributeValues: item{":pk": avS(pk), ":after": avS(seqKey(after)), ":u": avS(userID)}}
	n := 0
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		var out *ddb.QueryOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return 0, err
		}
		n += int(out.Count)
	}
	return n, nil
}
