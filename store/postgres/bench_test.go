package postgres_test

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// benchMessages is the size of the conversation the read benchmarks use:
// CONFAB_BENCH_MESSAGES, default 100,000.
func benchMessages(b *testing.B) int {
	v := os.Getenv("CONFAB_BENCH_MESSAGES")
	if v == "" {
		return 100_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1000 {
		b.Fatalf("CONFAB_BENCH_MESSAGES = %q, want a number ≥ 1000", v)
	}
	return n
}

// fillFeatures puts n messages into conversation "c1" of user "u1" with
// direct SQL, in the shape of a busy conversation with the features of
// issue 12: every 10th message is a thread root whose reply (seq+5, not in
// the timeline) bumps its summary; every 3rd message has reactions (2 keys,
// 3 users each); every 20th was edited once. The rows, the summary columns
// and the change log are as the store's writers leave them.
func fillFeatures(b *testing.B, u string, n int) {
	b.Helper()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	t0 := time.Now()
	for _, stmt := range []string{
		`INSERT INTO messages (conversation_id, seq, message_id, user_id, content, message_type, created_at, search,
			change_seq, edited_at, parent_message_id, reply_count, last_reply_at, reply_user_ids)
		SELECT 'c1', g, 'm' || lpad(g::text, 9, '0'), 'u1', 'message ' || g, 'TEXT', $2::timestamptz + g * interval '1 ms',
			array_to_tsvector(ARRAY['message', g::text]), g,
			CASE WHEN g % 20 = 0 THEN $2::timestamptz + g * interval '1 ms' END,
			CASE WHEN g % 10 = 5 THEN 'm' || lpad((g - 5)::text, 9, '0') ELSE '' END,
			CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END,
			CASE WHEN g % 10 = 0 THEN $2::timestamptz + (g + 5) * interval '1 ms' END,
			CASE WHEN g % 10 = 0 THEN ARRAY['u1'] ELSE '{}' END
		FROM generate_series(1, $1::int) AS g`,
		`INSERT INTO reactions (conversation_id, message_id, key, user_id, at)
		SELECT 'c1', 'm' || lpad(g::text, 9, '0'), k, 'u' || r, $2::timestamptz + g * interval '1 ms'
		FROM generate_series(3, $1::int, 3) AS g, unnest(ARRAY['+1', ':tada:']) AS k, generate_series(1, 3) AS r`,
		`INSERT INTO message_edits (message_id, content, written_at, replaced_at)
		SELECT 'm' || lpad(g::text, 9, '0'), 'draft ' || g, $2::timestamptz, $2::timestamptz
		FROM generate_series(20, $1::int, 20) AS g`,
		`INSERT INTO changes (conversation_id, change_seq, kind, at, user_id, message_id)
		SELECT 'c1', g, 'MESSAGE_SENT', $2::timestamptz, 'u1', 'm' || lpad(g::text, 9, '0') FROM generate_series(1, $1::int) AS g`,
		`UPDATE conversations SET last_seq = $1::int, last_change_seq = $1::int, message_count = $1::int, last_message = 'message ' || $1::int,
			last_message_at = $2, activity_at = $2 WHERE conversation_id = 'c1'`,
	} {
		if _, err := conn.Exec(ctx, stmt, n, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d messages in %v", n, time.Since(t0).Round(time.Millisecond))
}

// BenchmarkStore_ListMessages reads a page of 100 of a conversation of
// CONFAB_BENCH_MESSAGES messages, from the newest end and from the middle:
// Plain is ListMessages alone; Features adds what the API reads for the
// same page in one batched call each (reactions with their first users,
// unread replies of the page's roots), as graph/loaders does. It reports
// the p99 latency too.
func BenchmarkStore_ListMessages(b *testing.B) {
	u := freshSchema(b)
	s := openURL(b, u)
	fixture(b, s)
	n := benchMessages(b)
	fillFeatures(b, u, n)
	for _, page := range []struct {
		name   string
		before int64
	}{{"Newest", 0}, {"Middle", int64(n / 2)}} {
		for _, features := range []bool{false, true} {
			name := page.name + "/Plain"
			if features {
				name = page.name + "/Features"
			}
			b.Run(name, func(b *testing.B) {
				lat := make([]time.Duration, 0, 1024)
				for b.Loop() {
					t0 := time.Now()
					msgs, err := s.ListMessages(ctx, "c1", page.before, confab.MaxPageLimit)
					if err != nil || len(msgs) != confab.MaxPageLimit {
						b.Fatalf("page = %d messages, %v", len(msgs), err)
					}
					if features {
						readFeatures(b, s, msgs)
					}
					lat = append(lat, time.Since(t0))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}

// readFeatures reads the reactions and unread replies of a page, checking
// that the fill put some there.
func readFeatures(b *testing.B, s confab.Store, msgs []*confab.Message) {
	ids := make([]string, len(msgs))
	var roots []string
	for i, m := range msgs {
		ids[i] = m.MessageID
		if m.ReplyCount > 0 {
			roots = append(roots, m.MessageID)
		}
	}
	reactions, err := s.ListReactions(ctx, "c1", ids, "u2", confab.DefaultReactionUsers)
	if err != nil || len(reactions) == 0 {
		b.Fatalf("ListReactions = %d messages, %v", len(reactions), err)
	}
	unread, err := s.CountUnreadReplies(ctx, "c1", "u2", roots)
	if err != nil || len(roots) == 0 || len(unread) == 0 {
		b.Fatalf("CountUnreadReplies(%d roots) = %d, %v", len(roots), len(unread), err)
	}
}
