package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/confab-chat/confab"
)

// A reaction is an item of the message's partition (msgPK), sk
// "react#<key>\x00<userId>" (one per user and key), holding userId, key
// and at. The message item keeps reactions, a map from each key to its
// count, written whole by each reaction change: it bounds the distinct
// keys in the same transaction, and tells ListReactions which messages
// have any without reading their partitions.
func reactionKey(r *confab.Reaction) item {
	return key(msgPK(r.ConversationID, r.MessageID), "react#"+r.Key+"\x00"+r.UserID)
}

func readReactionCounts(it item) map[string]int64 {
	counts := map[string]int64{}
	if m, ok := it["reactions"].(*types.AttributeValueMemberM); ok {
		for k, v := range m.Value {
			if n, ok := v.(*types.AttributeValueMemberN); ok {
				if c, err := strconv.ParseInt(n.Value, 10, 64); err == nil && c > 0 {
					counts[k] = c
				}
			}
		}
	}
	return counts
}

func avCounts(counts map[string]int64) types.AttributeValue {
	m := map[string]types.AttributeValue{}
	for k, n := range counts {
		m[k] = avN(n)
	}
	return &types.AttributeValueMemberM{Value: m}
}

// AddReaction implements confab.ChangeStore as one change (see
// commitChange): the reaction item (on attribute_not_exists), the
// message's counts and ChangeSeq, and the REACTION_ADDED change.
func (s *Store) AddReaction(ctx context.Context, r *confab.Reaction, maxKeys int) (bool, *confab.Message, error) {
	const op = "add reaction"
	var added bool
	var m *confab.Message
	err := s.commitChange(ctx, op, r.ConversationID, func(t *changeTx) error {
		it, counts, err := s.reactionState(ctx, op, r)
		if err != nil {
			return err
		}
		m, added = readMessage(it), false
		if there, err := s.get(ctx, op, s.t.confab, reactionKey(r)); err != nil || there != nil {
			return cmp.Or(err, errNoChange)
		}
		if counts[r.Key] == 0 && len(counts) >= maxKeys {
			return &confab.Error{Code: confab.CodeLimited, Op: op, Err: errTooManyKeys}
		}
		counts[r.Key]++
		m.ChangeSeq = t.log(&confab.Change{ConversationID: r.ConversationID, Kind: confab.ChangeReactionAdded, At: r.At,
			UserID: r.UserID, MessageID: r.MessageID, ReactionKey: r.Key})
		t.put(&s.t.confab, with(reactionKey(r), item{"userId": avS(r.UserID), "key": avS(r.Key), "at": avT(r.At)}),
			"attribute_not_exists(pk)")
		s.setReactions(t, r, counts, m.ChangeSeq)
		added = true
		return nil
	})
	if err != nil {
		return false, nil, err
	}
	return added, m, nil
}

// RemoveReaction implements confab.ChangeStore as AddReaction does.
func (s *Store) RemoveReaction(ctx context.Context, r *confab.Reaction) (bool, *confab.Message, error) {
	const op = "remove reaction"
	var removed bool
	var m *confab.Message
	err := s.commitChange(ctx, op, r.ConversationID, func(t *changeTx) error {
		it, counts, err := s.reactionState(ctx, op, r)
		if err != nil {
			return err
		}
		m, removed = readMessage(it), false
		if there, err := s.get(ctx, op, s.t.confab, reactionKey(r)); err != nil || there == nil {
			return cmp.Or(err, errNoChange)
		}
		if counts[r.Key]--; counts[r.Key] <= 0 {
			delete(counts, r.Key)
		}
		m.ChangeSeq = t.log(&confab.Change{ConversationID: r.ConversationID, Kind: confab.ChangeReactionRemoved, At: r.At,
			UserID: r.UserID, MessageID: r.MessageID, ReactionKey: r.Key})
		t.items = append(t.items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab, Key: reactionKey(r),
			ConditionExpression: strPtr("attribute_exists(pk)")}})
		s.setReactions(t, r, counts, m.ChangeSeq)
		removed = true
		return nil
	})
	if err != nil {
		return false, nil, err
	}
	return removed, m, nil
}

var errTooManyKeys = errors.New("dynamodb: the message has the most reaction keys allowed")

// reactionState reads r's message (it must be live) and its counts.
func (s *Store) reactionState(ctx context.Context, op string, r *confab.Reaction) (item, map[string]int64, error) {
	it, err := s.get(ctx, op, s.t.messages, msgKey(r.ConversationID, r.MessageID))
	if err != nil {
		return nil, nil, err
	}
	if it == nil || getB(it, "deleted") {
		return nil, nil, notFound("message")
	}
	return it, readReactionCounts(it), nil
}

// setReactions adds to t the message's new counts and ChangeSeq, on the
// condition that it is live.
func (s *Store) setReactions(t *changeTx, r *confab.Reaction, counts map[string]int64, changeSeq int64) {
	u := newUpdate().set("changeSeq", avN(changeSeq))
	if len(counts) == 0 {
		u.remove("reactions")
	} else {
		u.set("reactions", avCounts(counts))
	}
	t.update(s.t.messages, msgKey(r.ConversationID, r.MessageID), u, isLive(u))
}

// ListReactions implements confab.ChangeStore: a batch read of the
// messages' counts (reactions only), then, for each message that has
// any, one consistent Query of its reactions, concurrently. A page costs
// one Query per message with reactions, and reads every reaction of those
// messages (bounded by their members and MaxReactionKeys).
func (s *Store) ListReactions(ctx context.Context, conversationID string, messageIDs []string, userID string, usersPerKey int) (map[string][]confab.ReactionCount, error) {
	const op = "list reactions"
	var keys []item
	for _, id := range slices.Compact(slices.Sorted(slices.Values(messageIDs))) {
		keys = append(keys, msgKey(conversationID, id))
	}
	items, err := s.batchGet(ctx, op, s.t.messages, keys, "messageId", "reactions")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, it := range items {
		if len(readReactionCounts(it)) > 0 {
			ids = append(ids, getS(it, "messageId"))
		}
	}
	lists := make([][]confab.ReactionCount, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			rs, err := s.queryPartition(gctx, op, msgPK(conversationID, id), "react#")
			lists[i] = reactionCounts(rs, userID, usersPerKey)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := map[string][]confab.ReactionCount{}
	for i, id := range ids {
		if len(lists[i]) > 0 {
			out[id] = lists[i]
		}
	}
	return out, nil
}

// reactionCounts summarises one message's reaction items: keys in FirstAt
// order, then by key; each key's earliest usersPerKey reactors.
func reactionCounts(rs []item, userID string, usersPerKey int) []confab.ReactionCount {
	slices.SortFunc(rs, func(a, b item) int {
		return cmp.Or(getT(a, "at").Compare(getT(b, "at")), strings.Compare(getS(a, "userId"), getS(b, "userId")))
	})
	var counts []confab.ReactionCount
	index := map[string]int{}
	for _, r := range rs {
		k, uid := getS(r, "key"), getS(r, "userId")
		i, ok := index[k]
		if !ok {
			i = len(counts)
			index[k] = i
			counts = append(counts, confab.ReactionCount{Key: k, FirstAt: getT(r, "at")})
		}
		c := &counts[i]
		c.Count++
		if len(c.UserIDs) < usersPerKey {
			c.UserIDs = append(c.UserIDs, uid)
		}
		c.ByUser = c.ByUser || uid == userID
	}
	slices.SortStableFunc(counts, func(a, b confab.ReactionCount) int {
		return cmp.Or(a.FirstAt.Compare(b.FirstAt), strings.Compare(a.Key, b.Key))
	})
	return counts
}
