package dynamodb

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// Retention walks the MessagesByAge index: its partition key, ageBucket,
// is the day a message was created and one of ageShards shards (by
// conversation), "2026-11-25#07", and its sort key createdAt. Sharding
// spreads one day's writes over ageShards index partitions, so the index
// does not cap the deployment's message rate; a purge reads every shard
// of a day. The purge floor item (the confab table's "purge#floor")
// remembers the oldest day that may still hold messages, so that a purge
// starts there instead of at the beginning of time; when it is missing
// (the first purge) it is found by one Scan of the messages table.
const ageShards = 16

const dayLayout = "2006-01-02"

func ageBucket(conversationID string, createdAt time.Time) string {
	h := fnv.New32a()
	h.Write([]byte(conversationID))
	return fmt.Sprintf("%s#%02d", createdAt.UTC().Format(dayLayout), h.Sum32()%ageShards)
}

var floorKey = key("purge#floor", "-")

// PurgeMessages implements confab.MessageStore. The oldest messages come
// from the MessagesByAge index, day by day from the purge floor (see
// ageShards). Then, conversation by conversation, one transaction deletes
// a batch of its messages (and their clientToken markers) and updates its
// count, preview and purgedSeq, on the condition that lastSeq is the one
// read. So each conversation is consistent at every moment, but a purge
// spanning several conversations is several transactions, not one
// (DynamoDB's transactions hold 100 items).
//
// Messages the recipe wrote have no ageBucket and are not purged until
// `confab migrate` rewrites them.
func (s *Store) PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	const op = "purge messages"
	if limit <= 0 {
		return 0, nil
	}
	cut := before.UTC().Truncate(time.Millisecond)
	if cut.Before(before) {
		cut = cut.Add(time.Millisecond)
	}
	old, floor, err := s.oldest(ctx, op, cut, limit)
	if err != nil || len(old) == 0 && floor == "" {
		return 0, err
	}
	byConv := map[string][]*confab.Message{}
	for _, m := range old {
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
	return removed, s.raiseFloor(ctx, op, floor)
}

// oldest returns up to limit of the oldest messages created before cut
// (keys and flags only), by CreatedAt, then conversation and seq, and the
// purge floor once they are gone ("" when there is nothing to purge).
func (s *Store) oldest(ctx context.Context, op string, cut time.Time, limit int) ([]*confab.Message, string, error) {
	day, ok, err := s.purgeFloor(ctx, op, cut)
	if err != nil || !ok {
		return nil, "", err
	}
	var found []*confab.Message
	lastDay := cut.UTC().Format(dayLayout)
	for ; day <= lastDay && len(found) < limit; day = nextDay(day) {
		for shard := range ageShards {
			msgs, err := s.queryAge(ctx, op, fmt.Sprintf("%s#%02d", day, shard), cut, limit)
			if err != nil {
				return nil, "", err
			}
			found = append(found, msgs...)
		}
	}
	slices.SortFunc(found, func(a, b *confab.Message) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ConversationID, b.ConversationID), cmp.Compare(a.Seq, b.Seq))
	})
	floor := lastDay // nothing older than cut is left once these are gone
	if len(found) > limit {
		found = found[:limit]
	}
	if len(found) == limit {
		floor = found[0].CreatedAt.Format(dayLayout)
	}
	return found, floor, nil
}

func nextDay(day string) string {
	t, _ := time.Parse(dayLayout, day)
	return t.AddDate(0, 0, 1).Format(dayLayout)
}

// purgeFloor returns the oldest day that may hold messages, and false
// when no message is older than cut.
func (s *Store) purgeFloor(ctx context.Context, op string, cut time.Time) (string, bool, error) {
	it, err := s.get(ctx, op, s.t.confab, floorKey)
	if err != nil {
		return "", false, err
	}
	if day := getS(it, "day"); day != "" {
		return day, true, nil
	}
	in := &ddb.ScanInput{TableName: &s.t.messages, ConsistentRead: aws.Bool(true),
		FilterExpression:     aws.String("createdAt < :cut AND attribute_exists(ageBucket)"),
		ProjectionExpression: aws.String("createdAt"), ExpressionAttributeValues: item{":cut": avT(cut)}}
	var first time.Time
	p := ddb.NewScanPaginator(s.db, in)
	for p.HasMorePages() {
		var out *ddb.ScanOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return "", false, err
		}
		for _, it := range out.Items {
			if t := getT(it, "createdAt"); first.IsZero() || t.Before(first) {
				first = t
			}
		}
	}
	if first.IsZero() {
		return "", false, nil
	}
	return first.Format(dayLayout), true, nil
}

// raiseFloor sets the purge floor to day unless it is already later.
func (s *Store) raiseFloor(ctx context.Context, op, day string) error {
	u := newUpdate().set("day", avS(day))
	in := u.input(s.t.confab, floorKey, "attribute_not_exists("+u.name("day")+") OR "+u.name("day")+" < "+u.value(avS(day)))
	err := s.retry(ctx, op, func() error { _, err := s.db.UpdateItem(ctx, in); return err })
	if isConditionFailed(err) {
		return nil
	}
	return err
}

// queryAge returns up to limit messages of one age bucket created before
// cut, oldest first.
func (s *Store) queryAge(ctx context.Context, op, bucket string, cut time.Time, limit int) ([]*confab.Message, error) {
	in := &ddb.QueryInput{TableName: &s.t.messages, IndexName: aws.String(messagesByAgeIndex),
		KeyConditionExpression:    aws.String("ageBucket = :b AND createdAt < :cut"),
		ExpressionAttributeValues: item{":b": avS(bucket), ":cut": avT(cut)},
		ProjectionExpression:      aws.String("conversationId, messageId, #seq, userId, createdAt, deleted, clientToken"),
		ExpressionAttributeNames:  map[string]string{"#seq": "seq"},
		Limit:                     aws.Int32(int32(min(limit, 1000)))}
	var msgs []*confab.Message
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(msgs) < limit {
		var out *ddb.QueryOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
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
	st := s.stripe(conversationID)
	st.Lock()
	defer st.Unlock()
	// The batch's uploads are marked dead first (they do not fit in the
	// transaction): should the purge then fail, files of messages past
	// retention go a little early, rather than never.
	if err := s.markUploadsDead(ctx, op, conversationID, messageIDs(batch)); err != nil {
		return 0, err
	}
	removed := 0
	var full []item // the batch's items, for what belongs to them
	err := s.retry(ctx, op, func() error {
		var err error
		if full, err = s.batchGet(ctx, op, s.t.messages, msgKeys(batch)); err != nil {
			return err
		}
		conv, err := s.get(ctx, op, s.t.conversations, convKey(conversationID))
		if err != nil {
			return err
		}
		tx, gone := s.purgeWrites(conversationID, batch)
		if conv != nil {
			live, top := 0, getN(conv, "purgedSeq")
			for _, m := range batch {
				if !m.Deleted {
					live++
				}
				top = max(top, m.Seq)
			}
			newest, err := s.newestLive(ctx, op, conv, gone)
			if err != nil {
				return err
			}
			u := newUpdate().add("messageCount", -int64(live)).set("purgedSeq", avN(top))
			setPreview(u, newest, false)
			tx = append(tx, types.TransactWriteItem{Update: u.txUpdate(s.t.conversations, convKey(conversationID), lastSeqIs(u, getN(conv, "lastSeq")))})
		}
		_, err = s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: tx})
		reasons := cancelReasons(err)
		switch {
		case err == nil:
			removed = len(batch)
			return nil
		case conv != nil && reasons != nil && reasons[len(reasons)-1] == "ConditionalCheckFailed":
			return errLostRace // an append or delete came in between
		case slices.Contains(reasons, "ConditionalCheckFailed"):
			// Another purge removed some: keep those still there.
			if batch, err = s.stillThere(ctx, op, batch); err != nil || len(batch) == 0 {
				return err
			}
			return errLostRace
		}
		return err
	})
	if err != nil {
		return removed, err
	}
	return removed, s.purgeBelongings(ctx, op, full)
}

func messageIDs(batch []*confab.Message) []string {
	ids := make([]string, len(batch))
	for i, m := range batch {
		ids[i] = m.MessageID
	}
	return ids
}

func msgKeys(batch []*confab.Message) []item {
	keys := make([]item, len(batch))
	for i, m := range batch {
		keys[i] = msgKey(m.ConversationID, m.MessageID)
	}
	return keys
}

// purgeBelongings removes what belonged to purged messages (their items as
// they were): the items of their partitions (edits, reactions, change
// references) and the changes these name, their MESSAGE_SENT changes, a
// reply's thread reference, and their seqs from their mentioned members'
// unread mentions. It runs after the purge's transaction (they do not fit
// in it): should it fail, what is left is invisible (ListChanges skips
// changes of a missing message, and reads of a thread, reactions and
// edits start from a message or skip a missing one), and only takes space.
func (s *Store) purgeBelongings(ctx context.Context, op string, msgs []item) error {
	var deletes []item
	for _, it := range msgs {
		m := readMessage(it)
		own, err := s.queryPartition(ctx, op, msgPK(m.ConversationID, m.MessageID), "")
		if err != nil {
			return err
		}
		for _, o := range own {
			sk := getS(o, "sk")
			deletes = append(deletes, key(getS(o, "pk"), sk))
			if seq, ok := strings.CutPrefix(sk, "chg#"); ok {
				deletes = append(deletes, key("chg#"+m.ConversationID, seq))
			}
		}
		if sent := getN(it, "sentChangeSeq"); sent > 0 {
			deletes = append(deletes, changeKey(m.ConversationID, sent))
		}
		if m.ParentMessageID != "" {
			deletes = append(deletes, key(threadPK(m.ConversationID, m.ParentMessageID), seqKey(m.Seq)))
		}
		for _, uid := range m.Mentions {
			in := newUpdate().deleteSet("mentions", []int64{m.Seq}).input(s.t.confab, memberKey(m.ConversationID, uid), "attribute_exists(pk)")
			err := s.retry(ctx, op, func() error { _, err := s.db.UpdateItem(ctx, in); return err })
			if err != nil && !isConditionFailed(err) {
				return err
			}
		}
	}
	return s.batchDelete(ctx, op, s.t.confab, deletes)
}

// batchDelete deletes the items keys (distinct) of table, 25 a call,
// retrying what DynamoDB leaves unprocessed.
func (s *Store) batchDelete(ctx context.Context, op, table string, keys []item) error {
	for chunk := range slices.Chunk(keys, 25) {
		reqs := make([]types.WriteRequest, len(chunk))
		for i, k := range chunk {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		pending := map[string][]types.WriteRequest{table: reqs}
		err := s.retry(ctx, op, func() error {
			out, err := s.db.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			if len(out.UnprocessedItems[table]) > 0 {
				pending = out.UnprocessedItems
				return errLostRace // throttled: back off and send the rest again
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// purgeWrites are the deletes of batch's messages and markers, and the set
// of their ids.
func (s *Store) purgeWrites(conversationID string, batch []*confab.Message) ([]types.TransactWriteItem, map[string]bool) {
	var tx []types.TransactWriteItem
	gone := map[string]bool{}
	for _, m := range batch {
		gone[m.MessageID] = true
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.messages,
			Key: msgKey(conversationID, m.MessageID), ConditionExpression: aws.String("attribute_exists(messageId)")}})
		if m.ClientToken != "" {
			tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab,
				Key: clientTokenKey(conversationID, m.UserID, m.ClientToken)}})
		}
	}
	return tx, gone
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
