package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

// The change log. Each change is an item of the confab table under its
// conversation's partition, pk "chg#<conversationId>", sk its ChangeSeq
// zero-padded to 20 digits (string order is number order), so that
// ListChanges is one consistent Query. The conversation item's
// lastChangeSeq is the counter: every transaction that appends changes
// moves it from C to C+n on the condition that it is still C (see
// commitChange), as appends move lastSeq. A change about a message also
// leaves a reference under the message's partition (see msgPK), so that
// retention finds and removes a purged message's changes with the rest of
// what belongs to it; but MESSAGE_SENT, whose ChangeSeq the message item
// keeps as sentChangeSeq: a send, the hot path, writes one item less.

// seqKey is n as a sort key: zero-padded, so that string order is number
// order.
func seqKey(n int64) string { return fmt.Sprintf("%020d", n) }

func changeKey(conversationID string, changeSeq int64) item {
	return key("chg#"+conversationID, seqKey(changeSeq))
}

// msgPK is the confab-table partition of what belongs to one message: its
// earlier versions (edit#), reactions (react#) and change references
// (chg#). NUL separates the ids: no valid text holds it.
func msgPK(conversationID, messageID string) string {
	return "msg#" + conversationID + "\x00" + messageID
}

// changeSeqIs is the condition that the conversation's lastChangeSeq is
// still last (absent on a conversation written before the change log).
func changeSeqIs(u *update, last int64) string {
	c := u.name("lastChangeSeq") + " = " + u.value(avN(last))
	if last == 0 {
		c = "(attribute_not_exists(" + u.name("lastChangeSeq") + ") OR " + c + ")"
	}
	return c
}

// countersAre is the condition that the conversation's counters are still
// c: no message was appended and no change made since they were read, and
// that it is not being deleted (see DeleteConversation).
func countersAre(u *update, c counters) string {
	return lastSeqIs(u, c.seq) + " AND " + changeSeqIs(u, c.change) + " AND attribute_not_exists(" + u.name("deleting") + ")"
}

func readCounters(conv item) counters {
	return counters{seq: getN(conv, "lastSeq"), change: getN(conv, "lastChangeSeq")}
}

// changeTx collects one transaction that appends changes to a
// conversation: the conversation's update (cu, written first, on the
// condition that its counters are still at) and the items after it.
type changeTx struct {
	s     *Store
	conv  item     // the conversation as read; nil in a group commit
	at    counters // the counters the transaction starts from
	cu    *update
	items []types.TransactWriteItem
	n     int64 // changes appended so far
}

func (s *Store) newChangeTx(conv item, at counters) *changeTx {
	return &changeTx{s: s, conv: conv, at: at, cu: newUpdate()}
}

// log appends c with the next ChangeSeq (set on c, and returned).
func (t *changeTx) log(c *confab.Change) int64 {
	t.n++
	c.ChangeSeq = t.at.change + t.n
	it := with(changeKey(c.ConversationID, c.ChangeSeq), item{"kind": avS(string(c.Kind)), "at": avT(c.At)})
	if c.UserID != "" {
		it["userId"] = avS(c.UserID)
	}
	if c.MessageID != "" {
		it["messageId"] = avS(c.MessageID)
		if c.Kind != confab.ChangeMessageSent {
			t.put(&t.s.t.confab, key(msgPK(c.ConversationID, c.MessageID), "chg#"+seqKey(c.ChangeSeq)), "")
		}
	}
	if c.ReactionKey != "" {
		it["reactionKey"] = avS(c.ReactionKey)
	}
	if c.MemberID != "" {
		it["memberId"] = avS(c.MemberID)
	}
	if c.Member != nil {
		it["member"] = &types.AttributeValueMemberM{Value: memberAttrs(*c.Member)}
	}
	t.put(&t.s.t.confab, it, "")
	return c.ChangeSeq
}

// put adds a Put of it to table, on cond ("" for none).
func (t *changeTx) put(table *string, it item, cond string) {
	p := &types.Put{TableName: table, Item: it}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
	}
	t.items = append(t.items, types.TransactWriteItem{Put: p})
}

// update adds u of the item k of table, on cond.
func (t *changeTx) update(table string, k item, u *update, cond string) {
	t.items = append(t.items, types.TransactWriteItem{Update: u.txUpdate(table, k, cond)})
}

// delete adds a Delete of the item k of table.
func (t *changeTx) delete(table string, k item) {
	t.items = append(t.items, types.TransactWriteItem{Delete: &types.Delete{TableName: &table, Key: k}})
}

// writes are the transaction's items, the conversation's update first.
func (t *changeTx) writes(conversationID string) []types.TransactWriteItem {
	t.cu.set("lastChangeSeq", avN(t.at.change+t.n))
	return append([]types.TransactWriteItem{{Update: t.cu.txUpdate(t.s.t.conversations, convKey(conversationID), countersAre(t.cu, t.at))}},
		t.items...)
}

// errNoChange ends a change's build when there is nothing to write (a
// reaction already there); commitChange then returns nil.
var errNoChange = errors.New("dynamodb: nothing to change")

// commitChange runs a change that is not an append: it reads the
// conversation consistently, has build add the change's items to a
// changeTx (build reads what else it needs), and commits them in one
// transaction on the condition that the counters are still those read.
// Every write to a message or thread goes through a change, so what build
// read is still so when the transaction commits; a lost race (any failed
// condition) reads and builds again, within the retry limits. build
// returns errNoChange when there is nothing to write. It runs in its
// turn among the node's appends and changes to the conversation (see
// serially), so only another node's can make it lose a race.
func (s *Store) commitChange(ctx context.Context, op, conversationID string, build func(t *changeTx) error) error {
	return s.serially(ctx, conversationID, func(ctx context.Context) error { return s.tryChange(ctx, op, conversationID, true, build) })
}

// commitMessageChange is commitChange for a change that needs nothing of
// the conversation but its counters (t.conv is nil): it starts from the
// counters this node last saw, as appends do, and reads the conversation
// only when it has none or they proved stale.
func (s *Store) commitMessageChange(ctx context.Context, op, conversationID string, build func(t *changeTx) error) error {
	return s.serially(ctx, conversationID, func(ctx context.Context) error { return s.tryChange(ctx, op, conversationID, false, build) })
}

func (s *Store) tryChange(ctx context.Context, op, conversationID string, readConv bool, build func(t *changeTx) error) error {
	st := s.stripe(conversationID)
	return s.retry(ctx, op, func() error {
		var t *changeTx
		if readConv {
			conv, err := s.get(ctx, op, s.t.conversations, convKey(conversationID))
			if err != nil {
				return err
			}
			if gone(conv) {
				return notFound("conversation")
			}
			t = s.newChangeTx(conv, readCounters(conv))
		} else {
			last, err := s.counters(ctx, st, conversationID)
			if err != nil {
				return err
			}
			t = s.newChangeTx(nil, last)
		}
		if err := build(t); err != nil {
			if errors.Is(err, errNoChange) {
				return nil
			}
			return err
		}
		_, err := s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: t.writes(conversationID)})
		if err != nil {
			st.forget(conversationID)
		}
		if slices.Contains(cancelReasons(err), "ConditionalCheckFailed") {
			return errLostRace
		}
		if err != nil {
			return err
		}
		st.advance(conversationID, counters{seq: t.at.seq, change: t.at.change + t.n})
		return nil
	})
}

// ListChanges implements confab.ChangeStore: one consistent Query of the
// conversation's log, then its messages as they are now (consistent batch
// reads). A change whose message is gone (purged) is skipped.
func (s *Store) ListChanges(ctx context.Context, conversationID string, afterChange int64, limit int) ([]*confab.Change, error) {
	const op = "list changes"
	if limit <= 0 {
		return nil, nil
	}
	in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(min(limit, 1000))),
		KeyConditionExpression:    aws.String("pk = :pk AND sk > :after"),
		ExpressionAttributeValues: item{":pk": avS("chg#" + conversationID), ":after": avS(seqKey(afterChange))}}
	var changes []*confab.Change
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(changes) < limit {
		var out *ddb.QueryOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		page, err := s.withMessages(ctx, op, conversationID, out.Items)
		if err != nil {
			return nil, err
		}
		changes = append(changes, page...)
	}
	return changes[:min(len(changes), limit)], nil
}

// withMessages reads change items and their messages, leaving out the
// changes whose message is gone.
func (s *Store) withMessages(ctx context.Context, op, conversationID string, items []item) ([]*confab.Change, error) {
	var keys []item
	seen := map[string]bool{}
	for _, it := range items {
		if id := getS(it, "messageId"); id != "" && !seen[id] {
			seen[id] = true
			keys = append(keys, msgKey(conversationID, id))
		}
	}
	msgs, err := s.batchGet(ctx, op, s.t.messages, keys)
	if err != nil {
		return nil, err
	}
	byID := map[string]*confab.Message{}
	for _, it := range msgs {
		m := readMessage(it)
		byID[m.MessageID] = m
	}
	var changes []*confab.Change
	for _, it := range items {
		c := &confab.Change{ConversationID: conversationID, ChangeSeq: parseSeqKey(getS(it, "sk")),
			Kind: confab.ChangeKind(getS(it, "kind")), At: getT(it, "at"), UserID: getS(it, "userId"),
			MessageID: getS(it, "messageId"), ReactionKey: getS(it, "reactionKey"), MemberID: getS(it, "memberId")}
		if m, ok := it["member"].(*types.AttributeValueMemberM); ok {
			mem := readMember(c.MemberID, m.Value)
			c.Member = &mem
		}
		if c.MessageID != "" {
			if c.Message = byID[c.MessageID]; c.Message == nil {
				continue // purged
			}
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// parseSeqKey reads a seqKey (0 when it is not one).
func parseSeqKey(sk string) int64 {
	n, _ := strconv.ParseInt(sk, 10, 64)
	return n
}
