package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab-chat/confab"
)

// benchStore opens a store in b.TempDir with user "u1" and conversation
// "c1".
func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	at := time.Now().UTC()
	ctx := context.Background()
	if err := s.InsertAccount(ctx, &confab.Account{User: confab.User{UserID: "u1", Username: "u1", Email: "u1@example.com", CreatedAt: at}, PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	if err := s.InsertConversation(ctx, &confab.Conversation{ConversationID: "c1", CreatedBy: "u1", CreatedAt: at, Members: []confab.Member{{UserID: "u1", JoinedAt: at}}}); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchAppenders is the number of goroutines appending at once.
const benchAppenders = 64

// BenchmarkStore_AppendMessage measures durable appends (WAL,
// synchronous=FULL) from 64 concurrent callers into one conversation, which
// group commit batches. It reports appends/s and the average batch size.
func BenchmarkStore_AppendMessage(b *testing.B) {
	s := benchStore(b)
	var n atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchAppenders + procs - 1) / procs)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			m := &confab.Message{MessageID: "m" + strconv.FormatInt(i, 10), ConversationID: "c1", UserID: "u1",
				Content: "hello benchmark " + strconv.FormatInt(i, 10), MessageType: confab.MessageText, CreatedAt: time.Now()}
			if _, err := s.AppendMessage(context.Background(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st := s.WriterStats()
	b.ReportMetric(float64(st.Appends)/float64(max(1, st.Batches)), "appends/batch")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// benchMessages is the size of the conversation the read benchmarks use:
// CONFAB_BENCH_MESSAGES, default 100,000.
func benchMessages(b *testing.B) int {
	v := os.Getenv("CONFAB_BENCH_MESSAGES")
	if v == "" {
		return 100_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 20_000 {
		b.Fatalf("CONFAB_BENCH_MESSAGES = %q, want a number ≥ 20000 (the rare word needs 20 matches)", v)
	}
	return n
}

var benchWords = []string{"lunch", "pizza", "deploy", "meeting", "review", "coffee", "release", "bug", "design", "weekend"}

// benchContent is message seq's content: two of benchWords, each slot
// picking a word for a tenth of the messages (so a word is in about a fifth
// of them), and "rare" in one message of 1000.
func benchContent(seq int) string {
	s := fmt.Sprintf("message %d about %s and %s", seq, benchWords[seq%len(benchWords)], benchWords[(seq/7)%len(benchWords)])
	if seq%1000 == 0 {
		s += " rare"
	}
	return s
}

// fill puts n messages into "c1" with direct SQL, 1000 rows per
// transaction (the rows, the search index and the summary exactly as the
// writer leaves them, but far faster than n appends).
func fill(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	const per = 1000
	t0 := time.Now()
	for start := 1; start <= n; start += per {
		end := min(start+per-1, n)
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO messages (`+msgBaseColumns+`) VALUES ('c1', ?, ?, 'u1', ?, 'TEXT', ?, NULL, 0, '')`)
		if err != nil {
			b.Fatal(err)
		}
		idx, err := tx.PrepareContext(ctx, `INSERT INTO messages_fts (rowid, content) VALUES (?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		var last string
		for seq := start; seq <= end; seq++ {
			last = benchContent(seq)
			res, err := ins.ExecContext(ctx, seq, "m"+strconv.Itoa(seq), last, int64(seq))
			if err != nil {
				b.Fatal(err)
			}
			rowid, err := res.LastInsertId()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := idx.ExecContext(ctx, rowid, last); err != nil {
				b.Fatal(err)
			}
		}
		ins.Close()
		idx.Close()
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET last_seq = ?1, message_count = ?1, last_message = ?2, last_message_at = ?1, activity_at = ?1 WHERE conversation_id = 'c1'`,
			end, confab.Preview(last)); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("filled %d messages in %v", n, time.Since(t0).Round(time.Millisecond))
}

// BenchmarkStore_ListMessages reads a page of 50 from a conversation of
// CONFAB_BENCH_MESSAGES messages, from the newest end and from the middle,
// and reports the p99 latency too.
func BenchmarkStore_ListMessages(b *testing.B) {
	s := benchStore(b)
	n := benchMessages(b)
	fill(b, s, n)
	for _, bb := range []struct {
		name   string
		before int64
	}{{"Newest", 0}, {"Middle", int64(n / 2)}} {
		b.Run(bb.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				page, err := s.ListMessages(context.Background(), "c1", bb.before, 50)
				if err != nil || len(page) != 50 {
					b.Fatalf("page = %d messages, %v", len(page), err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportP99(b, lat)
		})
	}
}

// BenchmarkStore_SearchMessages searches the same conversation for the
// newest 20 matches: a word in a tenth of the messages, a word in one of
// 1000, and two words that occur together in about one of 50.
func BenchmarkStore_SearchMessages(b *testing.B) {
	s := benchStore(b)
	fill(b, s, benchMessages(b))
	for _, bb := range []struct{ name, terms string }{{"Common", "pizza"}, {"Rare", "rare"}, {"TwoWords", "pizza deploy"}} {
		b.Run(bb.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				got, err := s.SearchMessages(context.Background(), "c1", bb.terms, 20)
				if err != nil || len(got) != 20 {
					b.Fatalf("search %q = %d messages, %v; want 20", bb.terms, len(got), err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportP99(b, lat)
		})
	}
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
