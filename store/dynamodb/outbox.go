package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
)

var _ confab.OutboxStore = (*Store)(nil)

// The outbox (see doc.go) lives in the confab table, spread over
// outboxShards partitions so that no one partition takes every change's
// write: a pending entry is the item pk "outbox#<shard>", sk its ID
// (seqKey); a done or dead one moves, in the transaction that settles it,
// to "outboxdone#<shard>", so that a claim reads only what is pending.
// An entry's shard is a hash of its ID, so a read by ID is one GetItem.
const (
	outboxShardBits = 3
	outboxShards    = 1 << outboxShardBits
)

// Outbox IDs are time-ordered, as Snowflake's: milliseconds since
// outboxEpoch, then the store's node number (outboxNodeBits), then a
// per-millisecond sequence (outboxSeqBits). No shared counter is written
// per entry (it would be one hot item for every change of the
// deployment); a node number is taken once per Open from the counter item
// outboxNodeKey. IDs increase in insertion order on one node and follow
// the clocks across nodes; two nodes share a node number only when
// 1<<outboxNodeBits Opens happened while one of them ran. The 41 bits
// of milliseconds last until 2089.
const (
	outboxNodeBits = 10
	outboxSeqBits  = 12
)

var outboxEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// outboxNodeKey is the counter that numbers the store's Opens.
func outboxNodeKey() item { return key("outboxnode", "outboxnode") }

// outboxIDs makes a store's outbox IDs.
type outboxIDs struct {
	mu          sync.Mutex
	node        int64
	lastMS, seq int64
}

// next returns an ID above every one it returned before.
func (g *outboxIDs) next(now time.Time) int64 {
	ms := now.Sub(outboxEpoch).Milliseconds()
	g.mu.Lock()
	defer g.mu.Unlock()
	if ms > g.lastMS {
		g.lastMS, g.seq = ms, 0
	} else if g.seq++; g.seq == 1<<outboxSeqBits { // the sequence ran out: borrow the next millisecond
		g.lastMS, g.seq = g.lastMS+1, 0
	}
	return g.lastMS<<(outboxNodeBits+outboxSeqBits) | g.node<<outboxSeqBits | g.seq
}

// takeOutboxNode numbers this Open (see outboxIDs): one UpdateItem.
func (s *Store) takeOutboxNode(ctx context.Context) error {
	in := newUpdate().add("n", 1).input(s.t.confab, outboxNodeKey(), "")
	in.ReturnValues = types.ReturnValueUpdatedNew
	var out *ddb.UpdateItemOutput
	err := s.retry(ctx, "number outbox node", func() error { var err error; out, err = s.db.UpdateItem(ctx, in); return err })
	if err != nil {
		return err
	}
	s.outboxIDs.node = getN(out.Attributes, "n") % (1 << outboxNodeBits)
	return nil
}

// outboxShard is id's shard (Fibonacci hashing: the sequence bits, mostly
// zero, would not spread).
func outboxShard(id int64) int { return int(uint64(id) * 0x9E3779B97F4A7C15 >> (64 - outboxShardBits)) }

func outboxKey(id int64, done bool) item {
	pk := "outbox#"
	if done {
		pk = "outboxdone#"
	}
	return key(pk+strconv.Itoa(outboxShard(id)), seqKey(id))
}

// noLease is the leaseUntil of an entry nobody holds: below every time.
var noLease = time.Time{}

// outboxItem is e as stored; a done or dead entry goes to its done
// partition, without a lease.
func outboxItem(e *confab.OutboxEntry) item {
	done := e.Done || e.Dead
	it := with(outboxKey(e.ID, done), item{
		"channel": avS(e.Channel), "target": avS(e.Target), "eventId": avN(e.EventID), "event": avS(string(e.Event)),
		"conversationId": avS(e.ConversationID), "at": avT(e.At), "data": avS(string(e.Data)), "attempts": avN(int64(e.Attempts)),
		"notBefore": avT(e.NotBefore), "owner": avS(e.Owner), "leaseUntil": avT(e.LeaseUntil), "lastError": avS(e.LastError),
		"done": avB(e.Done), "dead": avB(e.Dead),
	})
	if done {
		it["owner"], it["leaseUntil"] = avS(""), avT(noLease)
	}
	return it
}

func readOutbox(it item) *confab.OutboxEntry {
	e := &confab.OutboxEntry{
		ID: parseSeqKey(getS(it, "sk")), Channel: getS(it, "channel"), Target: getS(it, "target"), EventID: getN(it, "eventId"),
		Event: confab.OutboxEvent(getS(it, "event")), ConversationID: getS(it, "conversationId"), At: getT(it, "at"),
		Data: []byte(getS(it, "data")), Attempts: int(getN(it, "attempts")), NotBefore: getT(it, "notBefore"),
		Owner: getS(it, "owner"), LeaseUntil: getT(it, "leaseUntil"), LastError: getS(it, "lastError"),
		Done: getB(it, "done"), Dead: getB(it, "dead"),
	}
	if e.EventID == 0 {
		e.EventID = e.ID
	}
	if e.Owner == "" {
		e.LeaseUntil = time.Time{}
	}
	return e
}

// newOutboxPut assigns e its ID (and, for an event, its EventID) and
// returns its Put, unconditional: IDs are unique by construction.
func (s *Store) newOutboxPut(e *confab.OutboxEntry) types.TransactWriteItem {
	e.ID = s.outboxIDs.next(time.Now())
	if e.Channel == confab.ChannelEvent {
		e.EventID = e.ID
	}
	e.Attempts, e.Owner, e.LeaseUntil, e.Done, e.Dead = 0, "", noLease, false, false
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab, Item: outboxItem(e)}}
}

// outbox adds the event e to the change's transaction (see OutboxStore).
func (t *changeTx) outbox(e *confab.OutboxEntry) {
	t.items = append(t.items, t.s.newOutboxPut(e))
}

// ClaimOutbox implements confab.OutboxStore: it reads the oldest
// claimable entries of every shard (one consistent Query each, which reads
// only pending entries), then leases them oldest first, each by an
// UpdateItem on the condition that it is still claimable. Of two
// concurrent claims of an entry one fails the condition and skips it.
func (s *Store) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*confab.OutboxEntry, error) {
	const op = "claim outbox"
	if limit <= 0 {
		return nil, nil
	}
	var candidates []*confab.OutboxEntry
	for shard := range outboxShards {
		in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("pk = :pk"),
			FilterExpression:          aws.String("notBefore <= :now AND leaseUntil < :now"),
			ExpressionAttributeValues: item{":pk": avS("outbox#" + strconv.Itoa(shard)), ":now": avT(now)}}
		items, err := s.queryUpTo(ctx, op, in, limit)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			candidates = append(candidates, readOutbox(it))
		}
	}
	slices.SortFunc(candidates, func(a, b *confab.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	var claimed []*confab.OutboxEntry
	for _, c := range candidates {
		if len(claimed) == limit {
			break
		}
		u := newUpdate().set("owner", avS(owner)).set("leaseUntil", avT(now.Add(lease))).add("attempts", 1)
		in := u.input(s.t.confab, outboxKey(c.ID, false),
			"attribute_exists(pk) AND "+u.name("notBefore")+" <= "+u.value(avT(now))+" AND "+u.name("leaseUntil")+" < "+u.value(avT(now)))
		in.ReturnValues = types.ReturnValueAllNew
		var out *ddb.UpdateItemOutput
		err := s.retry(ctx, op, func() error { var err error; out, err = s.db.UpdateItem(ctx, in); return err })
		if isConditionFailed(err) {
			continue // another node claimed or settled it meanwhile
		}
		if err != nil {
			return claimed, err // what is claimed stays leased: its lease expires
		}
		claimed = append(claimed, readOutbox(out.Attributes))
	}
	return claimed, nil
}

// queryUpTo runs in page by page until it has limit items or its end.
func (s *Store) queryUpTo(ctx context.Context, op string, in *ddb.QueryInput, limit int) ([]item, error) {
	var items []item
	p := ddb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(items) < limit {
		var out *ddb.QueryOutput
		if err := s.retry(ctx, op, func() error { var err error; out, err = p.NextPage(ctx); return err }); err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
	}
	return items[:min(len(items), limit)], nil
}

// errLeaseLost is the CodeConflict of settling an entry whose lease is
// another node's (or that is settled already).
var errLeaseLost = errors.New("dynamodb: outbox lease lost")

// maxOutboxNext is how many deliveries one CompleteOutbox inserts: its
// transaction also moves the entry (two items).
const maxOutboxNext = maxBatchItems - 2

// settle moves the entry id, held by owner, to its done partition as
// change makes it, or deletes it when drop is set, and inserts next, in
// one transaction on the condition that owner still holds the lease.
func (s *Store) settle(ctx context.Context, op string, id int64, owner string, next []*confab.OutboxEntry,
	change func(e *confab.OutboxEntry) (drop bool)) error {
	if len(next) > maxOutboxNext {
		return &confab.Error{Code: confab.CodeInvalid, Op: op, Err: fmt.Errorf("dynamodb: %d deliveries of one event, more than %d", len(next), maxOutboxNext)}
	}
	it, err := s.get(ctx, op, s.t.confab, outboxKey(id, false))
	if err != nil {
		return err
	}
	if it == nil || getS(it, "owner") != owner {
		return &confab.Error{Code: confab.CodeConflict, Op: op, Err: errLeaseLost}
	}
	e := readOutbox(it)
	tx := []types.TransactWriteItem{{Delete: &types.Delete{TableName: &s.t.confab, Key: outboxKey(id, false),
		ConditionExpression: aws.String("#o = :o"), ExpressionAttributeNames: map[string]string{"#o": "owner"},
		ExpressionAttributeValues: item{":o": avS(owner)}}}}
	if !change(e) {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.confab, Item: outboxItem(e)}})
	}
	for _, n := range next {
		tx = append(tx, s.newOutboxPut(n))
	}
	err = s.transact(ctx, op, tx)
	if conditionFailed(err, 0) {
		return &confab.Error{Code: confab.CodeConflict, Op: op, Err: errLeaseLost}
	}
	return err
}

// CompleteOutbox implements confab.OutboxStore.
func (s *Store) CompleteOutbox(ctx context.Context, id int64, owner string, next []*confab.OutboxEntry) error {
	return s.settle(ctx, "complete outbox", id, owner, next, func(e *confab.OutboxEntry) bool {
		e.Done = true
		return e.Channel == confab.ChannelEvent && len(next) == 0
	})
}

// GiveUpOutbox implements confab.OutboxStore.
func (s *Store) GiveUpOutbox(ctx context.Context, id int64, owner string, lastErr string) error {
	return s.settle(ctx, "give up outbox", id, owner, nil, func(e *confab.OutboxEntry) bool {
		e.Dead, e.LastError = true, lastErr
		return false
	})
}

// RetryOutbox implements confab.OutboxStore: one UpdateItem of the pending
// entry on the condition that owner holds it.
func (s *Store) RetryOutbox(ctx context.Context, id int64, owner string, notBefore time.Time, lastErr string) error {
	const op = "retry outbox"
	u := newUpdate().set("notBefore", avT(notBefore)).set("lastError", avS(lastErr)).set("owner", avS("")).set("leaseUntil", avT(noLease))
	in := u.input(s.t.confab, outboxKey(id, false), "attribute_exists(pk) AND "+u.name("owner")+" = "+u.value(avS(owner)))
	err := s.retry(ctx, op, func() error { _, err := s.db.UpdateItem(ctx, in); return err })
	if isConditionFailed(err) {
		return &confab.Error{Code: confab.CodeConflict, Op: op, Err: errLeaseLost}
	}
	return err
}

// InsertOutbox implements confab.OutboxStore: transactions of up to 100
// entries, in order.
func (s *Store) InsertOutbox(ctx context.Context, entries []*confab.OutboxEntry) error {
	tx := make([]types.TransactWriteItem, len(entries))
	for i, e := range entries {
		tx[i] = s.newOutboxPut(e)
	}
	for chunk := range slices.Chunk(tx, maxBatchItems) {
		if err := s.transact(ctx, "insert outbox", chunk); err != nil {
			return err
		}
	}
	return nil
}

// ListOutboxEvents implements confab.OutboxStore: a consistent Query of
// each shard's pending and done partitions from afterID, merged by ID. As
// IDs follow the nodes' clocks, an event another node committed with a
// skewed clock may sort before one already listed.
func (s *Store) ListOutboxEvents(ctx context.Context, from time.Time, afterID int64, limit int) ([]*confab.OutboxEntry, error) {
	const op = "list outbox events"
	if limit <= 0 {
		return nil, nil
	}
	var out []*confab.OutboxEntry
	for shard := range outboxShards {
		for _, pk := range []string{"outbox#", "outboxdone#"} {
			in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true),
				KeyConditionExpression:    aws.String("pk = :pk AND sk > :after"),
				FilterExpression:          aws.String("#ch = :ev AND #at >= :from"),
				ExpressionAttributeNames:  map[string]string{"#ch": "channel", "#at": "at"},
				ExpressionAttributeValues: item{":pk": avS(pk + strconv.Itoa(shard)), ":after": avS(seqKey(max(afterID, 0))), ":ev": avS(confab.ChannelEvent), ":from": avT(from)}}
			items, err := s.queryUpTo(ctx, op, in, limit)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				out = append(out, readOutbox(it))
			}
		}
	}
	slices.SortFunc(out, func(a, b *confab.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out[:min(len(out), limit)], nil
}

// GetOutboxEntry implements confab.OutboxStore: the pending item, else the
// done one.
func (s *Store) GetOutboxEntry(ctx context.Context, id int64) (*confab.OutboxEntry, error) {
	const op = "get outbox entry"
	for _, done := range []bool{false, true} {
		it, err := s.get(ctx, op, s.t.confab, outboxKey(id, done))
		if err != nil {
			return nil, err
		}
		if it != nil {
			return readOutbox(it), nil
		}
	}
	return nil, notFound("outbox entry")
}

// PurgeOutbox implements confab.OutboxStore: a consistent Query of each
// shard's done partition, then one DeleteItem per entry.
func (s *Store) PurgeOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	const op = "purge outbox"
	n := 0
	for shard := 0; shard < outboxShards && n < limit; shard++ {
		in := &ddb.QueryInput{TableName: &s.t.confab, ConsistentRead: aws.Bool(true),
			KeyConditionExpression: aws.String("pk = :pk"), FilterExpression: aws.String("#at < :before"),
			ProjectionExpression:      aws.String("pk, sk"),
			ExpressionAttributeNames:  map[string]string{"#at": "at"},
			ExpressionAttributeValues: item{":pk": avS("outboxdone#" + strconv.Itoa(shard)), ":before": avT(before)}}
		items, err := s.queryUpTo(ctx, op, in, limit-n)
		if err != nil {
			return n, err
		}
		for _, it := range items {
			k := key(getS(it, "pk"), getS(it, "sk"))
			if err := s.retry(ctx, op, func() error {
				_, err := s.db.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &s.t.confab, Key: k})
				return err
			}); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
