package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/jackc/pgx/v5"
)

// TestSearch_SmallConversationIgnoresNeighbour: a search in a
// 10-message conversation costs about the same whether or not another
// conversation holds 200,000 messages full of matching words. The primary
// key (conversation_id, seq) bounds the search to the conversation; this
// pins that the planner keeps using it rather than the GIN index over
// every conversation's words.
func TestSearch_SmallConversationIgnoresNeighbour(t *testing.T) {
	serverURL(t)
	var stores [2]confab.Store
	for i, neighbour := range []int{0, 200_000} {
		u := freshSchema(t)
		s := openURL(t, u)
		fixture(t, s) // user u1, conversation c1
		for j := range 10 {
			if _, err := s.AppendMessage(ctx, &confab.Message{MessageID: fmt.Sprint("m", j), ConversationID: "c1", UserID: "u1",
				Content: "about pizza and a deploy", MessageType: confab.MessageText, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		if neighbour > 0 {
			bulkNeighbour(t, u, neighbour)
		}
		stores[i] = s
	}
	for _, terms := range []string{"a", "pizza", "absent"} {
		alone, crowded := fastestSearch(t, stores[0], terms), fastestSearch(t, stores[1], terms)
		t.Logf("%q: alone %v, next to 200,000 messages %v", terms, alone, crowded)
		if crowded > 10*alone+2*time.Millisecond {
			t.Errorf("search %q next to a large conversation took %v, alone %v", terms, crowded, alone)
		}
	}
}

// bulkNeighbour inserts conversation "big" with n messages in one
// statement, each with the words "message", "about", "and" and one of
// pizza, deploy, lunch, coffee, bug, and analyses the table.
func bulkNeighbour(t *testing.T, url string, n int) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`INSERT INTO conversations (conversation_id, created_by, created_at, activity_at, last_seq, message_count)
			SELECT 'big', 'u1', now(), now(), $1::bigint, $1::integer`,
		`INSERT INTO messages (conversation_id, seq, message_id, user_id, content, message_type, created_at, search)
			SELECT 'big', g, 'big-' || g, 'u1', 'message about pizza and a deploy', 'TEXT', now(),
				array_to_tsvector(ARRAY['message', 'about', 'and', 'a', (ARRAY['pizza','deploy','lunch','coffee','bug'])[g % 5 + 1]])
			FROM generate_series(1, $1::bigint) g`,
		`ANALYZE messages`,
	} {
		var args []any
		if q != `ANALYZE messages` {
			args = []any{n}
		}
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func fastestSearch(t *testing.T, s confab.Store, terms string) time.Duration {
	t.Helper()
	best := time.Hour
	for range 10 {
		t0 := time.Now()
		if _, err := s.SearchMessages(ctx, "c1", terms, 20); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(t0))
	}
	return best
}
