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
// items: the conversation, each message and its marker), answers them,
// and hands the lead to the head of what queued meanwhile. So a busy
// conversation costs one transaction per batch, not per message.

// maxBatchItems is DynamoDB's limit on the items of one transaction.
const maxBatchItems = 100

// appendReq is one queued append. Its result fields are written by the
// leader that commits it before wake is signalled; lead says the receiver
// is to lead the next batch instead.
type appendReq struct {
	m       *confab.Message
	created bool
	err     error
	lead    bool
	wake    chan struct{}
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
	st := s.stripe(m.ConversationID)
	r := &appendReq{m: m, wake: make(chan struct{}, 1)}
	st.Lock()
	if st.queue == nil {
		st.queue, st.leading = map[string][]*appendReq{}, map[string]bool{}
	}
	st.queue[m.ConversationID] = append(st.queue[m.ConversationID], r)
	follow := st.leading[m.ConversationID]
	st.leading[m.ConversationID] = true
	st.Unlock()
	if follow { // someone leads: wait for the result or the lead
		<-r.wake
		if !r.lead {
			return r.created, r.err
		}
	}
	batch := s.takeBatch(st, m.ConversationID)
	// The batch holds other callers' messages: the leader's cancellation
	// must not fail theirs. RetryWithin bounds it.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.retryWithin+30*time.Second)
	s.commitBatch(bctx, st, batch)
	cancel()
	st.Lock()
	var next *appendReq
	if rest := st.queue[m.ConversationID]; len(rest) > 0 {
		next = rest[0]
		next.lead = true
	} else {
		delete(st.queue, m.ConversationID)
		delete(st.leading, m.ConversationID)
	}
	st.Unlock()
	if next != nil {
		next.wake <- struct{}{}
	}
	for _, b := range batch[1:] {
		b.wake <- struct{}{}
	}
	return r.created, r.err
}

// takeBatch removes from the conversation's queue, head first, the appends
// that fit one transaction; one whose message id or client token is
// already in the batch (one item may not be written twice in a
// transaction) stays queued for the next batch. The head is the leader:
// it queued first of those waiting.
func (s *Store) takeBatch(st *stripe, conversationID string) []*appendReq {
	st.Lock()
	defer st.Unlock()
	q := st.queue[conversationID]
	var batch, rest []*appendReq
	ids, tokens := map[string]bool{}, map[string]bool{}
	items := 1 // the conversation
	for _, r := range q {
		need, token := 1, ""
		if r.m.ClientToken != "" {
			need, token = 2, r.m.UserID+"\x00"+r.m.ClientToken
		}
		if items+need > maxBatchItems || ids[r.m.MessageID] || token != "" && tokens[token] {
			rest = append(rest, r)
			continue
		}
		items += need
		ids[r.m.MessageID] = true
		if token != "" {
			tokens[token] = true
		}
		batch = append(batch, r)
	}
	st.queue[conversationID] = rest
	return batch
}

// commitBatch appends the batch's messages in one transaction, or, when a
// message or marker condition fails, one by one; it sets each request's
// result.
func (s *Store) commitBatch(ctx context.Context, st *stripe, batch []*appendReq) {
	const op = "append message"
	if len(batch) == 1 {
		batch[0].created, batch[0].err = s.appendOne(ctx, st, batch[0].m)
		return
	}
	cid := batch[0].m.ConversationID
	msgs := make([]*confab.Message, len(batch))
	for i, r := range batch {
		msgs[i] = r.m
	}
	err := s.retry(ctx, op, func() error {
		last, err := s.lastSeq(ctx, st, cid)
		if err != nil {
			return err
		}
		_, err = s.db.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: s.appendWrites(msgs, last)})
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
		st.remember(cid, last+int64(len(msgs)))
		for i, r := range batch {
			r.m.Seq, r.created = last+1+int64(i), true
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
