package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// benchStore opens a store with one user and one conversation.
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now().UTC().Truncate(time.Millisecond)
	ctx := context.Background()
	if err := s.InsertAccount(ctx, &confab.Account{User: confab.User{UserID: "u", Username: "u", Email: "u@example.com", CreatedAt: now}, PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	if err := s.InsertConversation(ctx, &confab.Conversation{ConversationID: "c", CreatedBy: "u", CreatedAt: now, Members: []confab.Member{{UserID: "u", JoinedAt: now}}}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStore_AppendMessage measures durable appends from 64 concurrent
// callers (group commit) and reports the batch size it saw.
func BenchmarkStore_AppendMessage(b *testing.B) {
	s := benchStore(b)
	var n atomic.Int64
	b.SetParallelism(64 / max(1, testingProcs()))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			m := &confab.Message{MessageID: "m" + strconv.FormatInt(i, 10), ConversationID: "c", UserID: "u", Content: "hello benchmark", MessageType: confab.MessageText, CreatedAt: time.Now().UTC()}
			if _, err := s.AppendMessage(context.Background(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	st := s.WriterStats()
	b.ReportMetric(float64(st.Appends)/float64(max(1, st.Batches)), "appends/batch")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

func testingProcs() int {
	if v, err := strconv.Atoi(os.Getenv("GOMAXPROCS")); err == nil {
		return v
	}
	return 2
}

// fill inserts n messages into conversation c in large transactions
// (faster than appends; the rows are the same).
func fill(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	words := []string{"lunch", "pizza", "deploy", "meeting", "review", "coffee", "release", "bug", "design", "weekend"}
	const per = 5000
	for start := 1; start <= n; start += per {
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (`+msgColumns+`) VALUES (?, ?, ?, ?, ?, 'TEXT', ?, NULL, 0, '')`)
		if err != nil {
			b.Fatal(err)
		}
		for seq := start; seq < start+per && seq <= n; seq++ {
			content := fmt.Sprintf("message %d about %s and %s", seq, words[seq%len(words)], words[(seq/7)%len(words)])
			if _, err := stmt.ExecContext(ctx, "c", seq, fmt.Sprint("m", seq), "u", content, int64(seq)); err != nil {
				b.Fatal(err)
			}
		}
		stmt.Close()
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET last_seq = ?, message_count = ? WHERE conversation_id = 'c'`, min(start+per-1, n), min(start+per-1, n)); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMessages() int {
	if v, err := strconv.Atoi(os.Getenv("CONFAB_BENCH_MESSAGES")); err == nil && v > 0 {
		return v
	}
	return 100_000
}

// BenchmarkStore_ListMessages reads a page of 50 from a conversation of
// CONFAB_BENCH_MESSAGES messages (default 100,000), from the newest end and
// from the middle, and reports p99 latency.
func BenchmarkStore_ListMessages(b *testing.B) {
	s := benchStore(b)
	n := benchMessages()
	fill(b, s, n)
	for _, where := range []struct {
		name   string
		before int64
	}{{"Newest", 0}, {"Middle", int64(n / 2)}} {
		b.Run(where.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				page, err := s.ListMessages(context.Background(), "c", where.before, 50)
				if err != nil || len(page) != 50 {
					b.Fatalf("page = %d, %v", len(page), err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportP99(b, lat)
		})
	}
}

// BenchmarkStore_SearchMessages searches the same conversation for a word
// in 10% of the messages, newest 20 first.
func BenchmarkStore_SearchMessages(b *testing.B) {
	s := benchStore(b)
	fill(b, s, benchMessages())
	lat := make([]time.Duration, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		got, err := s.SearchMessages(context.Background(), "c", "pizza", 20)
		if err != nil || len(got) == 0 {
			b.Fatalf("search = %d, %v", len(got), err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportP99(b, lat)
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
