package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/confab-chat/confab"
)

// A reaction is an item of the message's partition (msgPK), sk
// "react#<key>\x00<userId>" (one per user and key), holding userId, key
// and at. The message item keeps their summary, reactions: a map from
// each key to its count (n) and its earliest reactors (u: id and at, by
// time then id, at most reactionUsersKept), written whole by each
// reaction change. It bounds the distinct keys in the same transaction,
// and serves ListReactions for a page from one batch read of the
// messages: only a reader's own reaction to a key with more reactors than
// kept, or a read asking for more users, reads further.
const reactionUsersKept = confab.DefaultReactionUsers

func reactionKey(r *confab.Reaction) item {
	return key(msgPK(r.ConversationID, r.MessageID), "react#"+r.Key+"\x00"+r.UserID)
}

// reactor is one reaction of a key, in a summary.
type reactor struct {
	id string
	at time.Time
}

func compareReactors(a, b reactor) int {
	return cmp.Or(a.at.Compare(b.at), strings.Compare(a.id, b.id))
}

// keySummary is one key of a message's reactions summary.
type keySummary struct {
	n     int64
	users []reactor // the earliest, at most reactionUsersKept
}

// readReactions reads a message item's summary (empty when none).
func readReactions(it item) map[string]*keySummary {
	out := map[string]*keySummary{}
	m, ok := it["reactions"].(*types.AttributeValueMemberM)
	if !ok {
		return out
	}
	for k, v := range m.Value {
		e, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			continue
		}
		ks := &keySummary{n: getN(e.Value, "n")}
		if l, ok := e.Value["u"].(*types.AttributeValueMemberL); ok {
			for _, u := range l.Value {
				if r, ok := u.(*types.AttributeValueMemberM); ok {
					ks.users = append(ks.users, reactor{id: getS(r.Value, "id"), at: getT(r.Value, "at")})
				}
			}
		}
		if ks.n > 0 && len(ks.users) > 0 {
			out[k] = ks
		}
	}
	return out
}

func avReactions(sum map[string]*keySummary) types.AttributeValue {
	m := map[string]types.AttributeValue{}
	for k, ks := range sum {
		users := make([]types.AttributeValue, len(ks.users))
		for i, u := range ks.users {
			users[i] = &types.AttributeValueMemberM{Value: item{"id": avS(u.id), "at": avT(u.at)}}
		}
		m[k] = &types.AttributeValueMemberM{Value: item{"n": avN(ks.n), "u": &types.AttributeValueMemberL{Value: users}}}
	}
	return &types.AttributeValueMemberM{Value: m}
}

// AddReaction implements confab.ChangeStore as one change (see
// commitMessageChange): the reaction item (on attribute_not_exists), the
// message's summary and ChangeSeq, the REACTION_ADDED change and the
// reaction.added outbox event.
func (s *Store) AddReaction(ctx context.Context, r *confab.Reaction, maxKeys int) (bool, *confab.Message, error) {
	const op = "add reaction"
	var added bool
	var m *confab.Message
	err := s.commitMessageChange(ctx, op, r.ConversationID, func(t *changeTx) error {
		it, sum, err := s.reactionState(ctx, op, r)
		if err != nil {
			return err
		}
		m, added = readMessage(it), false
		if there, err := s.get(ctx, op, s.t.confab, reactionKey(r)); err != nil || there != nil {
			return cmp.Or(err, errNoChange)
		}
		ks := sum[r.Key]
		if ks == nil {
			if len(sum) >= maxKeys {
				return &confab.Error{Code: confab.CodeLimited, Op: op, Err: errTooManyKeys}
			}
			ks = &keySummary{}
			sum[r.Key] = ks
		}
		ks.n++
		ks.users = keepEarliest(append(ks.users, reactor{id: r.UserID, at: r.At.UTC().Truncate(time.Millisecond)}))
		m.ChangeSeq = t.log(&confab.Change{ConversationID: r.ConversationID, Kind: confab.ChangeReactionAdded, At: r.At,
			UserID: r.UserID, MessageID: r.MessageID, ReactionKey: r.Key})
		t.put(&s.t.confab, with(reactionKey(r), item{"userId": avS(r.UserID), "key": avS(r.Key), "at": avT(r.At)}),
			"attribute_not_exists(pk)")
		s.setReactions(t, r, sum, m.ChangeSeq)
		t.outbox(confab.NewReactionEvent(r))
		added = true
		return nil
	})
	if err != nil {
		return false, nil, err
	}
	return added, m, nil
}

// keepEarliest orders users by time, then id, and keeps the first
// reactionUsersKept.
func keepEarliest(users []reactor) []reactor {
	slices.SortFunc(users, compareReactors)
	return users[:min(len(users), reactionUsersKept)]
}

// RemoveReaction implements confab.ChangeStore as AddReaction does. When
// the reactor was one of the key's kept earliest and the key has others
// not kept, the key's reactions are read to keep the next earliest.
func (s *Store) RemoveReaction(ctx context.Context, r *confab.Reaction) (bool, *confab.Message, error) {
	const op = "remove reaction"
	var removed bool
	var m *confab.Message
	err := s.commitMessageChange(ctx, op, r.ConversationID, func(t *changeTx) error {
		it, sum, err := s.reactionState(ctx, op, r)
		if err != nil {
			return err
		}
		m, removed = readMessage(it), false
		if there, err := s.get(ctx, op, s.t.confab, reactionKey(r)); err != nil || there == nil {
			return cmp.Or(err, errNoChange)
		}
		if err := s.unreact(ctx, op, r, sum); err != nil {
			return err
		}
		m.ChangeSeq = t.log(&confab.Change{ConversationID: r.ConversationID, Kind: confab.ChangeReactionRemoved, At: r.At,
			UserID: r.UserID, MessageID: r.MessageID, ReactionKey: r.Key})
		t.items = append(t.items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.confab, Key: reactionKey(r),
			ConditionExpression: strPtr("attribute_exists(pk)")}})
		s.setReactions(t, r, sum, m.ChangeSeq)
		removed = true
		return nil
	})
	if err != nil {
		return false, nil, err
	}
	return removed, m, nil
}

// unreact takes r out of the summary sum.
func (s *Store) unreact(ctx context.Context, op string, r *confab.Reaction, sum map[string]*keySummary) error {
	ks := sum[r.Key]
	if ks == nil { // a summary that lost track: rebuild the key from its items
		ks = &keySummary{}
		sum[r.Key] = ks
	}
	kept := len(ks.users)
	ks.users = slices.DeleteFunc(ks.users, func(u reactor) bool { return u.id == r.UserID })
	ks.n--
	if len(ks.users) < kept && ks.n > int64(len(ks.users)) || ks.n < int64(len(ks.users)) || ks.n < 0 {
		items, err := s.queryPartition(ctx, op, msgPK(r.ConversationID, r.MessageID), "react#"+r.Key+"\x00")
		if err != nil {
			return err
		}
		ks.n, ks.users = 0, nil
		for _, it := range items {
			if id := getS(it, "userId"); id != r.UserID {
				ks.n++
				ks.users = append(ks.users, reactor{id: id, at: getT(it, "at")})
			}
		}
		ks.users = keepEarliest(ks.users)
	}
	if ks.n <= 0 {
		delete(sum, r.Key)
	}
	return nil
}

var errTooManyKeys = errors.New("dynamodb: the message has the most reaction keys allowed")

// reactionState reads r's message (it must be live) and its summary.
func (s *Store) reactionState(ctx context.Context, op string, r *confab.Reaction) (item, map[string]*keySummary, error) {
	it, err := s.get(ctx, op, s.t.messages, msgKey(r.ConversationID, r.MessageID))
	if err != nil {
		return nil, nil, err
	}
	if it == nil || getB(it, "deleted") {
		return nil, nil, notFound("message")
	}
	return it, readReactions(it), nil
}

// setReactions adds to t the message's new summary and ChangeSeq, on the
// condition that it is live.
func (s *Store) setReactions(t *changeTx, r *confab.Reaction, sum map[string]*keySummary, changeSeq int64) {
	u := newUpdate().set("changeSeq", avN(changeSeq))
	if len(sum) == 0 {
		u.remove("reactions")
	} else {
		u.set("reactions", avReactions(sum))
	}
	t.update(s.t.messages, msgKey(r.ConversationID, r.MessageID), u, isLive(u))
}

// ListReactions implements confab.ChangeStore from the messages'
// summaries: one batch read of the page's messages (their summaries
// only). Whether userID reacted with a key that has more reactors than
// the summary keeps is one batch read of those reaction items for the
// whole page. Only a read asking for more than reactionUsersKept users of
// a key that has more reads that message's reactions (one Query each).
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
	out := map[string][]confab.ReactionCount{}
	var full []string // messages whose reactions are read whole
	var mine []item   // reaction items of userID to look up
	for _, it := range items {
		id, sum := getS(it, "messageId"), readReactions(it)
		if len(sum) == 0 {
			continue
		}
		if needsAll(sum, usersPerKey) {
			full = append(full, id)
			continue
		}
		out[id] = fromSummary(sum, userID, usersPerKey)
		for _, rc := range out[id] {
			if !rc.ByUser && rc.Count > len(sum[rc.Key].users) {
				mine = append(mine, reactionKey(&confab.Reaction{ConversationID: conversationID, MessageID: id, UserID: userID, Key: rc.Key}))
			}
		}
	}
	if err := s.markMine(ctx, op, out, mine); err != nil {
		return nil, err
	}
	lists := make([][]confab.ReactionCount, len(full))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	for i, id := range full {
		g.Go(func() error {
			rs, err := s.queryPartition(gctx, op, msgPK(conversationID, id), "react#")
			lists[i] = reactionCounts(rs, userID, usersPerKey)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, id := range full {
		if len(lists[i]) > 0 {
			out[id] = lists[i]
		}
	}
	return out, nil
}

// needsAll reports whether a read of usersPerKey users needs more of a
// key's reactors than sum keeps.
func needsAll(sum map[string]*keySummary, usersPerKey int) bool {
	for _, ks := range sum {
		if usersPerKey > len(ks.users) && ks.n > int64(len(ks.users)) {
			return true
		}
	}
	return false
}

// fromSummary is a message's ReactionCounts from its summary, ByUser set
// where the kept reactors show it.
func fromSummary(sum map[string]*keySummary, userID string, usersPerKey int) []confab.ReactionCount {
	counts := make([]confab.ReactionCount, 0, len(sum))
	for k, ks := range sum {
		rc := confab.ReactionCount{Key: k, Count: int(ks.n), FirstAt: ks.users[0].at}
		for _, u := range ks.users {
			if len(rc.UserIDs) < usersPerKey {
				rc.UserIDs = append(rc.UserIDs, u.id)
			}
			rc.ByUser = rc.ByUser || u.id == userID
		}
		counts = append(counts, rc)
	}
	slices.SortFunc(counts, compareCounts)
	return counts
}

func compareCounts(a, b confab.ReactionCount) int {
	return cmp.Or(a.FirstAt.Compare(b.FirstAt), strings.Compare(a.Key, b.Key))
}

// markMine reads the reaction items keys (the reader's, where the
// summaries could not tell) and sets ByUser on out for those that exist.
func (s *Store) markMine(ctx context.Context, op string, out map[string][]confab.ReactionCount, keys []item) error {
	found, err := s.batchGet(ctx, op, s.t.confab, keys, "pk", "key")
	if err != nil {
		return err
	}
	for _, it := range found {
		id := getS(it, "pk")[strings.LastIndexByte(getS(it, "pk"), 0)+1:]
		for i := range out[id] {
			if out[id][i].Key == getS(it, "key") {
				out[id][i].ByUser = true
			}
		}
	}
	return nil
}

// reactionCounts summarises one message's reaction items: keys in FirstAt
// order, then by key; each key's earliest usersPerKey reactors.
func reactionCounts(rs []item, userID string, usersPerKey int) []confab.ReactionCount {
	slices.SortFunc(rs, func(a, b item) int {
		return compareReactors(reactor{getS(a, "userId"), getT(a, "at")}, reactor{getS(b, "userId"), getT(b, "at")})
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
	slices.SortStableFunc(counts, compareCounts)
	return counts
}
