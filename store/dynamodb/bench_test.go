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
