package dynamodb_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
)

// benchFill appends CONFAB_BENCH_MESSAGES messages (default 5,000) to one
// conversation of a fresh store on DynamoDB Local, from 32 goroutines (so
// group commit batches them); one in ten says "pizza", one in 50 "deploy".
func benchFill(b *testing.B) (*testing.B, confab.Store, int) {
	n := 5000
	if v := os.Getenv("CONFAB_BENCH_MESSAGES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("CONFAB_BENCH_MESSAGES = %q, want a number ≥ 1000", v)
		}
	}
	s := benchOpen(b)
	u := confab.User{UserID: "u1", Username: "ann", Email: "ann@example.com", CreatedAt: t0}
	if err := s.InsertAccount(context.Background(), &confab.Account{User: u, PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	if err := s.InsertConversation(context.Background(), &confab.Conversation{ConversationID: "c1", CreatedBy: "u1", CreatedAt: t0,
		Members: []confab.Member{{UserID: "u1", JoinedAt: t0}}}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := w; i < n; i += 32 {
				content := fmt.Sprint("message number ", i)
				if i%10 == 0 {
					content += " pizza"
				}
				if i%50 == 0 {
					content += " deploy"
				}
				m := &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: "c1", UserID: "u1", Content: content,
					MessageType: confab.MessageText, CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
				if _, err := s.AppendMessage(context.Background(), m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.Logf("filled %d messages in %v", n, time.Since(start).Round(time.Millisecond))
	return b, s, n
}

// benchOpen opens a store on fresh tables of CONFAB_TEST_DYNAMODB; the
// benchmark skips without it.
func benchOpen(b *testing.B) confab.Store {
	ep := os.Getenv("CONFAB_TEST_DYNAMODB")
	if ep == "" {
		b.Skip("CONFAB_TEST_DYNAMODB is unset")
	}
	prefix := fmt.Sprintf("bench-%d-", time.Now().UnixNano())
	s, err := dynamodbOpen(b, ep, prefix)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStore_ListMessages reads a page of 50, from the newest end and
// from the middle, and reports the p99 latency.
func BenchmarkStore_ListMessages(b *testing.B) {
	b, s, n := benchFill(b)
	for _, bb := range []struct {
		name   string
		before int64
	}{{"Newest", 0}, {"Middle", int64(n / 2)}} {
		b.Run(bb.name, func(b *testing.B) {
			var lat []time.Duration
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

// BenchmarkStore_SearchMessages searches for the newest 20 matches of a
// word in one message of ten, and of one in 50 (the scan reads 1,000).
func BenchmarkStore_SearchMessages(b *testing.B) {
	b, s, _ := benchFill(b)
	for _, bb := range []struct{ name, terms string }{{"Common", "pizza"}, {"OneIn50", "deploy"}} {
		b.Run(bb.name, func(b *testing.B) {
			var lat []time.Duration
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

// BenchmarkStore_PageWithExtras reads the newest page of 100 messages,
// plain and with what the client shows beside it: their reactions and the
// unread replies of their thread roots. Of those 100, one in three has
// reactions (two keys; one in ten a key of 15 reactors, beyond the
// summary's 10), one in five was edited, one in ten is a root with two
// replies (thread-only, so the page's read skips them).
func BenchmarkStore_PageWithExtras(b *testing.B) {
	b, s, _ := benchFill(b)
	ctx := context.Background()
	page, err := s.ListMessages(ctx, "c1", 0, 100)
	if err != nil || len(page) != 100 {
		b.Fatalf("page = %d messages, %v", len(page), err)
	}
	var roots []string
	for i, m := range page {
		at := t0.Add(time.Hour + time.Duration(i)*time.Second)
		if i%3 == 0 {
			reactors := 2
			if i%10 == 0 {
				reactors = 15
			}
			for r := range reactors {
				for _, key := range []string{"👍", ":tada:"}[:1+r%2] {
					re := &confab.Reaction{ConversationID: "c1", MessageID: m.MessageID, UserID: fmt.Sprint("r", r), Key: key, At: at}
					if _, _, err := s.AddReaction(ctx, re, confab.DefaultMaxReactionKeys); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		if i%5 == 0 {
			if _, err := s.EditMessage(ctx, "c1", m.MessageID, m.Content+" (edited)", at); err != nil {
				b.Fatal(err)
			}
		}
		if i%10 == 0 {
			roots = append(roots, m.MessageID)
			for r := range 2 {
				reply := &confab.Message{MessageID: fmt.Sprint(m.MessageID, "-reply", r), ConversationID: "c1", UserID: "u1",
					Content: "a reply", MessageType: confab.MessageText, CreatedAt: at, ParentMessageID: m.MessageID}
				if _, err := s.AppendMessage(ctx, reply); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	ids := make([]string, len(page))
	for i, m := range page {
		ids[i] = m.MessageID
	}
	listPage := func() {
		if page, err := s.ListMessages(ctx, "c1", 0, 100); err != nil || len(page) != 100 {
			b.Fatalf("page = %d messages, %v", len(page), err)
		}
	}
	reactions := func() {
		if rs, err := s.ListReactions(ctx, "c1", ids, "r14", confab.DefaultReactionUsers); err != nil || len(rs) != 34 {
			b.Fatalf("reactions of %d messages, %v; want 34", len(rs), err)
		}
	}
	unread := func() {
		if n, err := s.CountUnreadReplies(ctx, "c1", "r1", roots); err != nil || len(n) != len(roots) {
			b.Fatalf("unread replies of %d roots, %v; want %d", len(n), err, len(roots))
		}
	}
	for _, bb := range []struct {
		name  string
		reads []func()
	}{
		{"Plain", []func(){listPage}},
		{"Reactions", []func(){reactions}},
		{"UnreadReplies", []func(){unread}},
		{"WithExtras", []func(){listPage, reactions, unread}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				for _, read := range bb.reads {
					read()
				}
				lat = append(lat, time.Since(start))
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

func dynamodbOpen(b *testing.B, endpoint, prefix string) (confab.Store, error) {
	s, err := dynamodb.Open(context.Background(), dynamodb.Config{Region: region, Endpoint: endpoint, TablePrefix: prefix, CreateTables: true})
	if err == nil {
		b.Cleanup(func() { dropTables(b, prefix) })
	}
	return s, err
}

// BenchmarkStore_AppendMessage appends b.N messages to one conversation,
// one at a time (each its own transaction: the durable send's cost, with
// its outbox event); BenchmarkStore_AppendMessageParallel from 32
// goroutines, which group commit batches.
func BenchmarkStore_AppendMessage(b *testing.B)         { benchAppend(b, 1) }
func BenchmarkStore_AppendMessageParallel(b *testing.B) { benchAppend(b, 32) }

func benchAppend(b *testing.B, senders int) {
	s := benchOpen(b)
	ctx := context.Background()
	u := confab.User{UserID: "u1", Username: "ann", Email: "ann@example.com", CreatedAt: t0}
	if err := s.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: "h"}); err != nil {
		b.Fatal(err)
	}
	if err := s.InsertConversation(ctx, &confab.Conversation{ConversationID: "c1", CreatedBy: "u1", CreatedAt: t0,
		Members: []confab.Member{{UserID: "u1", JoinedAt: t0}}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := w; i < b.N; i += senders {
				m := &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: "c1", UserID: "u1", Content: "a message of some length",
					MessageType: confab.MessageText, CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)}
				if _, err := s.AppendMessage(ctx, m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
