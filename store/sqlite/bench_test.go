package sqlite

import (
	"context"
	"database/sql"
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
	fillMessages(b, s, "c1", n, n)
}

// fillMessages fills conversationID (which must exist) as fill does.
// Its seqs after plainUpTo have the features of issue 12, as the store
// leaves them: of every 50 seqs the first is a thread root with
// the next three as its replies (two in the thread only, one also in the
// conversation); one message in 10 has three reactions with two keys, one
// in 20 was edited once, one in 25 mentions "u2".
func fillMessages(b *testing.B, s *Store, conversationID string, n, plainUpTo int) {
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
		stmt := func(q string) *sql.Stmt {
			st, err := tx.PrepareContext(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			return st
		}
		ins := stmt(`INSERT INTO messages (` + msgBaseColumns + `, change_seq, edited_at, mentions, parent_id, also_in_conversation, reply_count, last_reply_at, reply_users)
			VALUES (?, ?, ?, 'u1', ?, 'TEXT', ?, NULL, 0, '', ?, ?, ?, ?, ?, ?, ?, ?)`)
		idx := stmt(`INSERT INTO messages_fts (rowid, content) VALUES (?, ?)`)
		react := stmt(`INSERT INTO reactions (conversation_id, message_id, reaction_key, user_id, at) VALUES (?, ?, ?, ?, ?)`)
		edit := stmt(`INSERT INTO message_edits (message_id, content, at, replaced_at) VALUES (?, ?, ?, ?)`)
		mention := stmt(`INSERT INTO mentions (conversation_id, seq, user_id) VALUES (?, ?, 'u2')`)
		var last string
		for seq := start; seq <= end; seq++ {
			last = benchContent(seq)
			id := conversationID + "-m" + strconv.Itoa(seq)
			var f benchFeatures
			if seq > plainUpTo {
				f = benchFeaturesOf(conversationID, seq)
			}
			res, err := ins.ExecContext(ctx, conversationID, seq, id, last, int64(seq), seq, f.editedAt, f.mentions, f.parent, f.also, f.replies, f.lastReplyAt, f.replyUsers)
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
			if f.reactions {
				for i, key := range []string{"👍", "👍", ":tada:"} {
					if _, err := react.ExecContext(ctx, conversationID, id, key, fmt.Sprint("u", i+1), int64(seq+i)); err != nil {
						b.Fatal(err)
					}
				}
			}
			if f.editedAt.Valid {
				if _, err := edit.ExecContext(ctx, id, "before the edit", int64(seq), f.editedAt.Int64); err != nil {
					b.Fatal(err)
				}
			}
			if f.mentions.Valid {
				if _, err := mention.ExecContext(ctx, conversationID, seq); err != nil {
					b.Fatal(err)
				}
			}
		}
		for _, st := range []*sql.Stmt{ins, idx, react, edit, mention} {
			st.Close()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET last_seq = ?1, message_count = ?1, last_message = ?2, last_message_at = ?1, activity_at = ?1, last_change_seq = ?1
			WHERE conversation_id = ?3`, end, confab.Preview(last), conversationID); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("filled %s with %d messages (features after %d) in %v", conversationID, n, plainUpTo, time.Since(t0).Round(time.Millisecond))
}

// benchFeatures are the issue 12 columns of one message of fillMessages.
type benchFeatures struct {
	editedAt, lastReplyAt sql.NullInt64
	mentions, replyUsers  sql.NullString
	parent                string
	also                  bool
	replies               int
	reactions             bool
}

func benchFeaturesOf(conversationID string, seq int) benchFeatures {
	var f benchFeatures
	switch seq % 50 {
	case 1:
		f.replies = 3
		f.lastReplyAt = sql.NullInt64{Int64: int64(seq + 3), Valid: true}
		f.replyUsers = encodeIDs([]string{"u1"})
	case 2, 3, 4:
		f.parent = conversationID + "-m" + strconv.Itoa(seq-seq%50+1)
		f.also = seq%50 == 4
	}
	f.reactions = seq%10 == 0
	if seq%20 == 0 {
		f.editedAt = sql.NullInt64{Int64: int64(seq + 1), Valid: true}
	}
	if seq%25 == 0 {
		f.mentions = encodeIDs([]string{"u2"})
	}
	return f
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

// BenchmarkStore_ListMessagesFeatures compares, in one run, a page of 100
// without the features of issue 12 (what listMessages read before it) with
// a page of 100 with threads, reactions, edits and mentions (see
// fillMessages) read as the API serves it: the page, then its reactions
// and its roots' unread replies, one read each for the whole page (no
// N+1). Both come from one conversation of CONFAB_BENCH_MESSAGES messages,
// the older half plain and the newer half with the features, each from
// two depths (the plain half's newest end and its middle; the newest end
// and the newer half's middle), alternately. It reports p50 and p99 of
// each and the ratio of the p99s.
func BenchmarkStore_ListMessagesFeatures(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	n := benchMessages(b)
	fillMessages(b, s, "c1", n, n/2)
	read := func(before int64, features bool) {
		page, err := s.ListMessages(ctx, "c1", before, confab.MaxPageLimit)
		if err != nil || len(page) != confab.MaxPageLimit {
			b.Fatalf("page before %d = %d messages, %v", before, len(page), err)
		}
		if !features {
			return
		}
		ids := make([]string, len(page))
		var roots []string
		for i, m := range page {
			ids[i] = m.MessageID
			if m.ReplyCount > 0 {
				roots = append(roots, m.MessageID)
			}
		}
		reactions, err := s.ListReactions(ctx, "c1", ids, "u2", confab.DefaultReactionUsers)
		if err != nil || len(reactions) < 5 {
			b.Fatalf("reactions of the page = %d messages, %v", len(reactions), err)
		}
		unread, err := s.CountUnreadReplies(ctx, "c1", "u2", roots)
		if err != nil || len(roots) == 0 || len(unread) != len(roots) {
			b.Fatalf("unread replies of %d roots = %v, %v", len(roots), unread, err)
		}
	}
	var latPlain, latFeatures []time.Duration
	i := 0
	for b.Loop() {
		plainBefore, featuresBefore := int64(n/2+1), int64(0)
		if i%2 == 1 {
			plainBefore, featuresBefore = int64(n/4), int64(3*n/4)
		}
		i++
		t0 := time.Now()
		read(plainBefore, false)
		t1 := time.Now()
		read(featuresBefore, true)
		latPlain, latFeatures = append(latPlain, t1.Sub(t0)), append(latFeatures, time.Since(t1))
	}
	p50p, p99p := percentiles(latPlain)
	p50f, p99f := percentiles(latFeatures)
	b.ReportMetric(p50p, "plain-p50-ms")
	b.ReportMetric(p99p, "plain-p99-ms")
	b.ReportMetric(p50f, "features-p50-ms")
	b.ReportMetric(p99f, "features-p99-ms")
	b.ReportMetric(p99f/p99p, "p99-ratio")
}

// percentiles returns the p50 and p99 of lat in milliseconds.
func percentiles(lat []time.Duration) (p50, p99 float64) {
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	at := func(q int) float64 { return float64(lat[len(lat)*q/100].Microseconds()) / 1000 }
	return at(50), at(99)
}

func reportP99(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
