package dynamodb

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/confab-chat/confab"
)

// The admin's whole-server reads and DeleteConversation. DynamoDB has no
// order over hash keys and no aggregation, so these read more than they
// return; each says what it costs.

// ListAllConversations implements confab.ModerationStore by a Scan of
// the conversations table (ids only, consistent) for every page, sorted
// in memory, then a batch read of the page with its members. A page
// costs a read of every conversation's item: fine for an admin's list of
// thousands; past that the list needs an index of its own.
func (s *Store) ListAllConversations(ctx context.Context, after string, limit int) ([]*confab.Conversation, error) {
	const op = "list all conversations"
	if limit <= 0 {
		return nil, nil
	}
	in := &ddb.ScanInput{TableName: &s.t.conversations, ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("conversationId"),
		FilterExpression:     aws.String("attribute_not_exists(deleting)")}
	if after != "" {
		in.FilterExpression = aws.String("attribute_not_exists(deleting) AND conversationId > :after")
		in.ExpressionAttributeValues = item{":after": avS(after)}
	}
	var ids []string
	p := ddb.NewScanPaginator(s.db, in)
	for p.HasMorePages() {
		var out *ddb.ScanOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			ids = append(ids, getS(it, "conversationId"))
		}
	}
	slices.Sort(ids)
	ids = ids[:min(len(ids), limit)]
	keys := make([]item, len(ids))
	for i, id := range ids {
		keys[i] = convKey(id)
	}
	items, err := s.batchGet(ctx, op, s.t.conversations, keys)
	if err != nil {
		return nil, err
	}
	items = slices.DeleteFunc(items, gone)
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(getS(a, "conversationId"), getS(b, "conversationId")) })
	convs := make([]*confab.Conversation, len(items))
	for i, it := range items {
		convs[i] = readConversation(it)
	}
	if err := s.loadMembers(ctx, op, convs, items); err != nil {
		return nil, err
	}
	return convs, nil
}

// DeleteConversation implements confab.ModerationStore. It is not one
// transaction (a conversation is more than 100 items) but three steps:
//
//  1. the conversation item is marked deleting: from then on every read
//     treats it as missing and every change and append to it fails its
//     condition (see countersAre) and finds it gone;
//  2. what belongs to it is found and batch-deleted: messages, their
//     clientToken markers, edits, reactions and change references, the
//     change log, threads, memberships with their thread read marks and
//     push windows, invitations, bans, the direct marker, and its uploads'
//     items (whose blob keys it returns); one Query per member, per
//     message changed since its send, per thread root, and one of the
//     uploads' partition with a BatchGetItem of the uploads;
//  3. the conversation item is deleted.
//
// A crash or error midway leaves it marked and partly deleted, invisible,
// and a later DeleteConversation (the item is still there) finishes it.
// It returns the ids of the conversation's uploads, whose blobs are the
// caller's to remove.
func (s *Store) DeleteConversation(ctx context.Context, conversationID string) ([]string, error) {
	const op = "delete conversation"
	conv, err := s.get(ctx, op, s.t.conversations, convKey(conversationID))
	if err != nil {
		return nil, err
	}
	if conv == nil {
		return nil, notFound("conversation")
	}
	if !getB(conv, "deleting") {
		// The item as marked is final: no change commits after the mark,
		// so its participants are all the members there will be.
		in := newUpdate().set("deleting", avB(true)).input(s.t.conversations, convKey(conversationID), "attribute_exists(conversationId)")
		in.ReturnValues = types.ReturnValueAllNew
		var out *ddb.UpdateItemOutput
		err := s.retry(ctx, op, func() error { var err error; out, err = s.db.UpdateItem(ctx, in); return err })
		if isConditionFailed(err) {
			return nil, notFound("conversation")
		}
		if err != nil {
			return nil, err
		}
		conv = out.Attributes
	}
	s.stripe(conversationID).forget(conversationID)
	msgs, confabKeys, err := s.belongings(ctx, op, conv)
	if err != nil {
		return nil, err
	}
	upKeys, uploadIDs, err := s.conversationUploads(ctx, op, conversationID)
	if err != nil {
		return nil, err
	}
	if err := s.batchDelete(ctx, op, s.t.confab, append(confabKeys, upKeys...)); err != nil {
		return nil, err
	}
	if err := s.batchDelete(ctx, op, s.t.messages, msgs); err != nil {
		return nil, err
	}
	err = s.retry(ctx, op, func() error {
		_, err := s.db.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &s.t.conversations, Key: convKey(conversationID)})
		return err
	})
	return uploadIDs, err
}

// belongings returns the keys of the conversation's messages and of its
// items in the confab table (distinct).
func (s *Store) belongings(ctx context.Context, op string, conv item) (msgs, confabKeys []item, err error) {
	cid := getS(conv, "conversationId")
	var mu sync.Mutex
	seen := map[string]bool{}
	addKey := func(k item) {
		mu.Lock()
		defer mu.Unlock()
		if id := getS(k, "pk") + "\x00" + getS(k, "sk"); !seen[id] {
			seen[id] = true
			confabKeys = append(confabKeys, k)
		}
	}
	addAll := func(items []item) {
		for _, it := range items {
			addKey(key(getS(it, "pk"), getS(it, "sk")))
		}
	}
	if dk := getS(conv, "directKey"); dk != "" {
		addKey(key("direct#"+dk, "-"))
	}
	in := &ddb.QueryInput{TableName: &s.t.messages, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("conversationId = :c"),
		ExpressionAttributeValues: item{":c": avS(cid)},
		ProjectionExpression:      aws.String("conversationId, messageId, userId, clientToken, changeSeq, sentChangeSeq, lastReplySeq")}
	items, err := s.queryAll(ctx, op, in)
	if err != nil {
		return nil, nil, err
	}
	var partitions []string // confab-table partitions to read and delete
	for _, it := range items {
		mid := getS(it, "messageId")
		msgs = append(msgs, msgKey(cid, mid))
		if tok := getS(it, "clientToken"); tok != "" {
			addKey(clientTokenKey(cid, getS(it, "userId"), tok))
		}
		if getN(it, "changeSeq") != getN(it, "sentChangeSeq") { // edited, reacted to, deleted or replied to
			partitions = append(partitions, msgPK(cid, mid))
		}
		if getN(it, "lastReplySeq") > 0 {
			partitions = append(partitions, threadPK(cid, mid))
		}
	}
	partitions = append(partitions, "chg#"+cid, "invited#"+cid, "ban#"+cid)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	for _, pk := range partitions {
		g.Go(func() error {
			owned, err := s.queryPartition(gctx, op, pk, "")
			if err != nil {
				return err
			}
			addAll(owned)
			if pk == "invited#"+cid {
				for _, ref := range owned {
					addKey(invitationKey(cid, getS(ref, "sk")))
				}
			}
			return nil
		})
	}
	for _, uid := range slices.Compact(slices.Sorted(slices.Values(getList(conv, "participants")))) {
		addKey(memberKey(cid, uid))
		addKey(pushWindowKey(uid, cid))
		g.Go(func() error {
			marks, err := s.queryPartition(gctx, op, userPK(uid), "thread#"+cid+"\x00")
			addAll(marks)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return msgs, confabKeys, nil
}

// The messages table's MessagesByUser index (userId + messageId, keys
// only) serves ListUserMessages. Keys only, so a send writes one small
// index entry and no later update of the message touches it.

// ListUserMessages implements confab.ModerationStore: the MessagesByUser
// index backwards from before (eventually consistent: a message sent an
// instant ago may be missing), then the messages by consistent batch
// reads, the deleted ones left out.
func (s *Store) ListUserMessages(ctx context.Context, userID, before string, limit int) ([]*confab.Message, error) {
	const op = "list user messages"
	if limit <= 0 {
		return nil, nil
	}
	in := &ddb.QueryInput{TableName: &s.t.messages, IndexName: aws.String(messagesByUserIndex), ScanIndexForward: aws.Bool(false),
		KeyConditionExpression: aws.String("userId = :u"), ExpressionAttributeValues: item{":u": avS(userID)},
		Limit: aws.Int32(int32(min(max(limit, 25), 100)))}
	if before != "" {
		in.KeyConditionExpression = aws.String("userId = :u AND messageId < :b")
		in.ExpressionAttributeValues[":b"] = avS(before)
	}
	var msgs []*confab.Message
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(msgs) < limit {
		var out *ddb.QueryOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		keys := make([]item, len(out.Items))
		for i, it := range out.Items {
			keys[i] = msgKey(getS(it, "conversationId"), getS(it, "messageId"))
		}
		items, err := s.batchGet(ctx, op, s.t.messages, keys)
		if err != nil {
			return nil, err
		}
		var page []*confab.Message
		for _, it := range items {
			if m := readMessage(it); !m.Deleted {
				page = append(page, m)
			}
		}
		slices.SortFunc(page, func(a, b *confab.Message) int { return strings.Compare(b.MessageID, a.MessageID) })
		msgs = append(msgs, page...)
	}
	return msgs[:min(len(msgs), limit)], nil
}

// Usage implements confab.ModerationStore from the MessagesByAge index
// (see purge.go): one Query per day of the span (from through to, both
// included) and shard (ageShards), so at most (MaxUsageDays+1) × ageShards
// Queries, queryConcurrency at a time,
// reading every message of the span once (keys and author only), never
// the rest of the table; then a counting Scan each of the users and the
// conversations tables (a read of every item). Messages the recipe wrote
// before `confab migrate` have no ageBucket and are not counted.
// StorageBytes is a Scan of the confab table's attachment copies (see
// doc.go, "Uploads"), another read of every item.
func (s *Store) Usage(ctx context.Context, from, to time.Time, top int) (*confab.Usage, error) {
	const op = "usage"
	from, to = from.UTC().Truncate(24*time.Hour), to.UTC().Truncate(24*time.Hour)
	u := &confab.Usage{From: from, To: to}
	var days []time.Time
	for d := from; !d.After(to) && len(days) <= confab.MaxUsageDays; d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	type dayStats struct {
		messages int
		users    map[string]bool
		convs    map[string]int
	}
	stats := make([]dayStats, len(days))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	for i, d := range days {
		stats[i] = dayStats{users: map[string]bool{}, convs: map[string]int{}}
		for shard := range ageShards {
			g.Go(func() error {
				in := &ddb.QueryInput{TableName: &s.t.messages, IndexName: aws.String(messagesByAgeIndex),
					KeyConditionExpression:    aws.String("ageBucket = :b"),
					ExpressionAttributeValues: item{":b": avS(fmt.Sprintf("%s#%02d", d.Format(dayLayout), shard))},
					ProjectionExpression:      aws.String("conversationId, userId")}
				items, err := s.queryAll(gctx, op, in)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				for _, it := range items {
					stats[i].messages++
					stats[i].users[getS(it, "userId")] = true
					stats[i].convs[getS(it, "conversationId")]++
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	convs := map[string]int{}
	var weeks []time.Time
	weekUsers := map[time.Time]map[string]bool{}
	for i, d := range days {
		u.MessagesPerDay = append(u.MessagesPerDay, confab.DayCount{Day: d, Count: stats[i].messages})
		u.ActiveUsersPerDay = append(u.ActiveUsersPerDay, confab.DayCount{Day: d, Count: len(stats[i].users)})
		monday := d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		if weekUsers[monday] == nil {
			weekUsers[monday] = map[string]bool{}
			weeks = append(weeks, monday)
		}
		maps.Copy(weekUsers[monday], stats[i].users)
		for c, n := range stats[i].convs {
			convs[c] += n
		}
	}
	for _, w := range weeks {
		u.ActiveUsersPerWeek = append(u.ActiveUsersPerWeek, confab.DayCount{Day: w, Count: len(weekUsers[w])})
	}
	for c, n := range convs {
		u.TopConversations = append(u.TopConversations, confab.ConversationCount{ConversationID: c, Messages: n})
	}
	slices.SortFunc(u.TopConversations, func(a, b confab.ConversationCount) int {
		return cmp.Or(cmp.Compare(b.Messages, a.Messages), strings.Compare(a.ConversationID, b.ConversationID))
	})
	u.TopConversations = u.TopConversations[:min(len(u.TopConversations), max(top, 0))]
	var err error
	if u.Users, err = s.count(ctx, op, s.t.users, ""); err != nil {
		return nil, err
	}
	if u.Conversations, err = s.count(ctx, op, s.t.conversations, "attribute_not_exists(deleting)"); err != nil {
		return nil, err
	}
	if u.StorageBytes, err = s.attachedBytes(ctx, op); err != nil {
		return nil, err
	}
	return u, nil
}

// count counts the items of table that pass filter ("" for all) with a
// Scan.
func (s *Store) count(ctx context.Context, op, table, filter string) (int, error) {
	in := &ddb.ScanInput{TableName: &table, Select: types.SelectCount, ConsistentRead: aws.Bool(true)}
	if filter != "" {
		in.FilterExpression = &filter
	}
	n := 0
	p := ddb.NewScanPaginator(s.db, in)
	for p.HasMorePages() {
		var out *ddb.ScanOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return 0, err
		}
		n += int(out.Count)
	}
	return n, nil
}
