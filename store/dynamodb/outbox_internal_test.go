package dynamodb

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Outbox IDs increase on one node whatever its clock does (a burst past
// the per-millisecond sequence, a clock set back), and keep the node's
// number, so two nodes never make the same ID.
func TestOutboxIDs_IncreaseAndKeepNode(t *testing.T) {
	g := &outboxIDs{node: 5}
	at := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	var last int64
	check := func(now time.Time, n int) {
		t.Helper()
		for range n {
			id := g.next(now)
			if id <= last {
				t.Fatalf("ID %d after %d", id, last)
			}
			if node := id >> outboxSeqBits & (1<<outboxNodeBits - 1); node != 5 {
				t.Fatalf("ID %d has node %d, want 5", id, node)
			}
			last = id
		}
	}
	check(at, 3<<outboxSeqBits+10) // the sequence runs out thrice: borrows milliseconds
	check(at.Add(-time.Hour), 10)  // the clock set back
	check(at.Add(time.Hour), 10)   // and forward
	if ms := last >> (outboxNodeBits + outboxSeqBits); ms != at.Add(time.Hour).Sub(outboxEpoch).Milliseconds() {
		t.Fatalf("ID of %d ms since the epoch, want the clock's", ms)
	}
}

// A shard is a hash of the ID: one node's IDs (sequence 0, one per
// millisecond) spread over every shard.
func TestOutboxShard_Spreads(t *testing.T) {
	g := &outboxIDs{node: 1}
	at := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	var n [outboxShards]int
	const ids = 8000
	for i := range ids {
		n[outboxShard(g.next(at.Add(time.Duration(i)*time.Millisecond)))]++
	}
	for shard, c := range n {
		if c < ids/outboxShards/2 {
			t.Fatalf("shard %d got %d of %d IDs: %v", shard, c, ids, n)
		}
	}
}

// A conversation too large for one transaction is written in chunks of at
// most 100 items, the conversation and its event (the last two) together
// in the last.
func TestInsertChunks(t *testing.T) {
	for _, n := range []int{3, 100, 101, 102, 250} {
		tx := make([]types.TransactWriteItem, n)
		for i := range tx {
			tx[i] = types.TransactWriteItem{Put: &types.Put{TableName: new(string)}}
			*tx[i].Put.TableName = string(rune('a' + i%26))
		}
		chunks := insertChunks(tx)
		total := 0
		for _, c := range chunks {
			if len(c) > maxBatchItems || len(c) == 0 {
				t.Fatalf("%d items: a chunk of %d", n, len(c))
			}
			total += len(c)
		}
		last := chunks[len(chunks)-1]
		if total != n || len(last) < 2 || last[len(last)-1].Put != tx[n-1].Put || last[len(last)-2].Put != tx[n-2].Put {
			t.Fatalf("%d items: chunks %d items, the last %d, not ending with the conversation and its event", n, total, len(last))
		}
	}
}
