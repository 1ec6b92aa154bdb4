package dynamodb

import (
	"context"
	"errors"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/confab-chat/confab"
)

// Group commit. Appends to one conversation are serial (each moves
// lastSeq on a condition), so one conversation's throughput would be one
// transaction round trip per message. Instead, a node queues the appends
// of each conversation; the caller at the head of the queue leads: it
// writes as many queued messages as fit in one TransactWriteItems (100
// items: the conversation, and for each message the message, its marker,
// its change, its outbox event and its mentions' memberships), answers them,
// and hands the lead to the head of what queued meanwhile. So a busy
// conversation costs one transaction per batch, not per message.
//
// The node's other changes to a conversation (edits, deletions,
// reactions, renames: commitChange) queue in the same line and run alone
// when their turn comes, so that they never race the node's appends (or
// each other) for the conversation's counters; only other nodes do.

// maxBatchItems is DynamoDB's limit on the items of one transaction.
const maxBatchItems = 100

// appendReq is one queued append of m, or a change (m nil) that runs
// alone. Its result fields are written by the leader that commits it
// before wake is signalled; lead says the receiver is to lead the next
// batch instead.
type appendReq struct {
	conversationID string
	m              *confab.Message
	change         func(ctx context.Context) error
	created        bool
	err            error
	lead           bool
	wake           chan struct{}
}

// errSplit makes a batch whose message or marker condition failed fall
// back to appending its messages one by one, which tells a duplicate
// client token (answered with the stored message) from a reused message id
// (CodeConflict) for each.
var errSplit = errors.New("dynamodb: a message of the batch needs appending alone")

// AppendMessage implements confab.MessageStore by group commit (above);
// each batch is one transaction as appendOne describes, with lastSeq moved
// by the batch's size and the summary of its newest message. Seqs are
// gapless under any concurrency, on one node or several.
func (s *Store) AppendMessage(ctx context.Context, m *confab.Message) (bool, error) {
	r := &appendReq{conversationID: m.ConversationID, m: m}
	s.inTurn(ctx, r)
	return r.created, r.err
}

// serially runs change in its turn among the node's appends and changes
// to the conversation.
func (s *Store) serially(ctx context.Context, conversationID string, change func(ctx context.Context) error) error {
	r := &appendReq{conversationID: conversationID, change: change}
	s.inTurn(ctx, r)
	return r.err
}

// inTurn queues r and returns once it is done: it leads, or waits for
// the leader to do it or to hand it the lead.
func (s *Store) inTurn(ctx context.Context, r *appendReq) {
	st := s.stripe(r.conversationID)
	r.wake = make(chan struct{}, 1)
	cid := r.conversationID
	st.Lock()
	if st.queue == nil {
		st.queue, st.leading = map[string][]*appendReq{}, map[string]bool{}
	}
	st.queue[cid] = append(st.queue[cid], r)
	follow := st.leading[cid]
	st.leading[cid] = true
	st.Unlock()
	if follow { // someone leads: wait for the result or the lead
		<-r.wake
		if !r.lead {
			return
		}
	}
	batch := s.takeBatch(st, cid)
	// The batch holds other callers' requests: the leader's cancellation
	// must not fail theirs. RetryWithin bounds it.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.retryWithin+30*time.Second)
	s.commitBatch(bctx, st, batch)
	cancel()
	st.Lock()
	var next *appendReq
	if rest := st.queue[cid]; len(rest) > 0 {
		next = rest[0]
		next.lead = true
	} else {
		delete(st.queue, cid)
		delete(st.leading, cid)
	}
	st.Unlock()
	if next != nil {
		next.wake <- struct{}{}
	}
	for _, b := range batch[1:] {
		b.wake <- struct{}{}
	}
}

// takeBatch removes from the conversation's queue, head first, the appends
// that fit one transaction; one whose message id or client token is
// already in the batch (one item may not be written twice in a
// transaction) stays queued for the next batch, as does a second message
// of an author in slow mode (each is checked against the one before).
// The head is the leader: it queued first of those waiting.
func (s *Store) takeBatch(st *stripe, conversationID string) []*appendReq {
	st.Lock()
	defer st.Unlock()
	q := st.queue[conversationID]
	var batch, rest []*appendReq
	ids, tokens, slowed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	items := 1 // the conversation
	for i, r := range q {
		if r.m == nil || r.m.ParentMessageID != "" { // a change, or a reply (see appendOne), is alone
			if len(batch) == 0 {
				batch, rest = []*appendReq{r}, append(rest, q[i+1:]...)
				break
			}
			rest = append(rest, r)
			continue
		}
		need, token := appendItems(r.m), ""
		if r.m.ClientToken != "" {
			token = r.m.UserID + "\x00" + r.m.ClientToken
		}
		slow := r.m.SlowMode > 0
		if items+need > maxBatchItems || ids[r.m.MessageID] || token != "" && tokens[token] || slow && slowed[r.m.UserID] {
			rest = append(rest, r)
			continue
		}
		items += need
		ids[r.m.MessageID] = true
		slowed[r.m.UserID] = slowed[r.m.UserID] || slow
		if token != "" {
			tokens[token] = true
		}
		batch = append(batch, r)
	}
	st.queue[conversationID] = rest
	return batch
}

// appendItems is how many transaction items appending m takes at most
// beside the conversation's update (see appendWrites): the message, its
// marker, its change, its outbox event, one per member it mentions, and
// its author's membership in slow mode.
func appendItems(m *confab.Message) int {
	n := 3 + len(m.Mentions)
	if m.ClientToken != "" {
		n++
	}
	if m.SlowMode > 0 {
		n++
	}
	return n
}

// commitBatch appends the batch's messages in one transaction, or, when a
// message or marker condition fails, one by one; it sets each request's
// result.
func (s *Store) commitBatch(ctx context.Context, st *stripe, batch []*appendReq) {
	const op = "append message"
	if len(batch) == 1 {
		if r := batch[0]; r.change != nil {
			r.err = r.change(ctx)
		} else {
			r.created, r.err = s.appendOne(ctx, st, r.m)
		}
		return
	}
	cid := batch[0].m.ConversationID
	msgs := make([]*confab.Message, len(batch))
	for i, r := range batch {
		msgs[i] = r.m
	}
	err := s.retry(ctx, op, func() error {
		last, err := s.counters(ctx, st, cid)
		if err != nil {
			return err
		}
		t := s.newChangeTx(nil, last)
		s.appendWrites(t, msgs, nil)
		_, err = s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: t.writes(cid)})
		reasons := cancelReasons(err)
		for i := 1; i < len(reasons); i++ {
			if reasons[i] == "ConditionalCheckFailed" {
				return errSplit
			}
		}
		switch {
		case conditionFailed(err, 0):
			st.forget(cid)
			return errLostRace
		case err != nil:
			st.forget(cid)
			return err
		}
		st.remember(cid, counters{seq: last.seq + int64(len(msgs)), change: last.change + t.n})
		for i, r := range batch {
			r.m.Seq, r.m.ChangeSeq, r.created = last.seq+1+int64(i), last.change+1+int64(i), true
		}
		return nil
	})
	if errors.Is(err, errSplit) {
		for _, r := range batch {
			r.created, r.err = s.appendOne(ctx, st, r.m)
		}
		return
	}
	for _, r := range batch {
		if err != nil {
			r.err = err
		}
	}
}
