package dynamodb

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// PurgeMessages implements confab.MessageStore. DynamoDB has no global
// order by time, so the oldest messages are found by a Scan of the
// messages table filtered on createdAt (consistent reads; its cost is the
// table's size, so run retention rarely and with a large limit). Then,
// conversation by conversation, one transaction deletes a batch of its
// messages (and their clientToken markers) and updates its count, preview
// and purgedSeq, on the condition that lastSeq is the one read. So each
// conversation stays consistent at every moment, but a purge spanning
// several conversations is several transactions, not one.
func (s *Store) PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	const op = "purge messages"
	if limit <= 0 {
		return 0, nil
	}
	cut := before.UTC().Truncate(time.Millisecond)
	if cut.Before(before) {
		cut = cut.Add(time.Millisecond)
	}
	old, err := s.scanOlder(ctx, op, cut)
	if err != nil {
		return 0, err
	}
	slices.SortFunc(old, func(a, b *confab.Message) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ConversationID, b.ConversationID), cmp.Compare(a.Seq, b.Seq))
	})
	byConv := map[string][]*confab.Message{}
	for _, m := range old[:min(len(old), limit)] {
		byConv[m.ConversationID] = append(byConv[m.ConversationID], m)
	}
	removed := 0
	for _, id := range slices.Sorted(maps.Keys(byConv)) {
		for batch := range slices.Chunk(byConv[id], 45) { // ≤ 2 items a message + the conversation
			n, err := s.purgeBatch(ctx, op, id, batch)
			removed += n
			if err != nil {
				return removed, err
			}
		}
	}
	return removed, nil
}

// scanOlder returns the keys and flags of every message created before
// cut.
func (s *Store) scanOlder(ctx context.Context, op string, cut time.Time) ([]*confab.Message, error) {
	in := &ddb.ScanInput{TableName: &s.t.messages, ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("createdAt < :cut"),
		ProjectionExpression:      aws.String("conversationId, messageId, #seq, userId, createdAt, deleted, clientToken"),
		ExpressionAttributeNames:  map[string]string{"#seq": "seq"},
		ExpressionAttributeValues: item{":cut": avT(cut)}}
	var msgs []*confab.Message
	p := ddb.NewScanPaginator(s.db, in)
	for p.HasMorePages() {
		var out *ddb.ScanOutput
		err := s.retry(ctx, op, func() error {
			var err error
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			msgs = append(msgs, readMessage(it))
		}
	}
	return msgs, nil
}

// purgeBatch deletes batch, messages of one conversation, in one
// transaction with the conversation's update, and returns how many it
// deleted. Messages another purge removed meanwhile are left out.
func (s *Store) purgeBatch(ctx context.Context, op, conversationID string, batch []*confab.Message) (int, error) {
	mu := s.appendLock(conversationID)
	mu.Lock()
	defer mu.Unlock()
	removed := 0
	err := s.retry(ctx, op, func() error {
		conv, err := s.get(ctx, op, s.t.conversations, convKey(conversationID))
		if err != nil {
			return err
		}
		gone := map[string]bool{}
		live, top := 0, getN(conv, "purgedSeq")
		var tx []types.TransactWriteItem
		for _, m := range batch {
			gone[m.MessageID] = true
			if !m.Deleted {
				live++
			}
			top = max(top, m.Seq)
			tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.messages,
				Key: msgKey(conversationID, m.MessageID), ConditionExpression: aws.String("attribute_exists(messageId)")}})
			if m.ClientToken != "" {
				tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab,
					Key: clientTokenKey(conversationID, m.UserID, m.ClientToken)}})
			}
		}
		if conv != nil {
			newest, err := s.newestLive(ctx, op, conversationID, gone)
			if err != nil {
				return err
			}
			u := newUpdate().add("messageCount", -int64(live)).set("purgedSeq", avN(top))
			setPreview(u, newest, false)
			tx = append(tx, types.TransactWriteItem{Update: u.txUpdate(s.t.conversations, convKey(conversationID), lastSeqIs(u, getN(conv, "lastSeq")))})
		}
		_, err = s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: tx})
		if r := cancelReasons(err); r != nil && conv != nil && r[len(r)-1] == "ConditionalCheckFailed" {
			return errLostRace
		}
		if r := cancelReasons(err); slices.Contains(r, "ConditionalCheckFailed") {
			// Another purge removed some: keep those still there.
			batch, err = s.stillThere(ctx, op, batch)
			if err != nil {
				return err
			}
			if len(batch) == 0 {
				return nil
			}
			return errLostRace
		}
		if err == nil {
			removed = len(batch)
		}
		return err
	})
	return removed, err
}

func (s *Store) stillThere(ctx context.Context, op string, batch []*confab.Message) ([]*confab.Message, error) {
	var keep []*confab.Message
	for _, m := range batch {
		it, err := s.get(ctx, op, s.t.messages, msgKey(m.ConversationID, m.MessageID))
		if err != nil {
			return nil, err
		}
		if it != nil {
			keep = append(keep, m)
		}
	}
	return keep, nil
}

var _ confab.MessageStore = (*Store)(nil)
