package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/postgres"
	"github.com/confab-chat/confab/store/storetest"
	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

// serverURL returns CONFAB_TEST_POSTGRES. When it is unset the test is
// skipped, or fails when CONFAB_TEST_REQUIRE is "all" or a list naming
// postgres (Dendrite's Required), as CI sets it.
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CONFAB_TEST_POSTGRES")
	if u != "" {
		return u
	}
	const msg = "CONFAB_TEST_POSTGRES is unset: start a server with store/postgres/testdata/start-postgres.sh and export the URL it prints"
	for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if name == "all" || name == "postgres" {
			t.Fatal(msg + " (CONFAB_TEST_REQUIRE asks for postgres)")
		}
	}
	t.Skip(msg)
	return ""
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns a URL whose connections use it (search_path is sent as a
// run-time parameter), so tests run in parallel on one database.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := serverURL(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to CONFAB_TEST_POSTGRES: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

func withSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema // keyword/value form
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openURL(t testing.TB, u string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func open(t *testing.T) *postgres.Store {
	t.Helper()
	return openURL(t, freshSchema(t))
}

func TestStore_Contract(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) confab.Store { return open(t) })
}

// fixture inserts a user and a conversation of theirs.
func fixture(t testing.TB, s confab.Store) (userID, conversationID string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := confab.User{UserID: "u1", Username: "ann", Email: "ann@example.com", CreatedAt: now}
	if err := s.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &confab.Conversation{ConversationID: "c1", CreatedBy: "u1", CreatedAt: now, Members: []confab.Member{{UserID: "u1", JoinedAt: now}}}
	if err := s.InsertConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	return "u1", "c1"
}

// TestStore_TwoNodesAppend runs two stores, each with its own pool, on one
// schema, like two nodes: concurrent appends to one conversation get seqs
// exactly 1..N.
func TestStore_TwoNodesAppend(t *testing.T) {
	u := freshSchema(t)
	nodes := []*postgres.Store{openURL(t, u), openURL(t, u)}
	userID, convID := fixture(t, nodes[0])
	const workers, each = 16, 20
	var (
		mu   sync.Mutex
		seqs = map[int64]int{}
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := nodes[w%len(nodes)]
			for i := range each {
				m := &confab.Message{MessageID: fmt.Sprintf("m-%d-%d", w, i), ConversationID: convID, UserID: userID,
					Content: "hi", MessageType: confab.MessageText, CreatedAt: time.Now()}
				if _, err := node.AppendMessage(ctx, m); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seqs[m.Seq]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	const n = workers * each
	if len(seqs) != n {
		t.Fatalf("%d distinct seqs, want %d", len(seqs), n)
	}
	for seq := int64(1); seq <= n; seq++ {
		if seqs[seq] != 1 {
			t.Fatalf("seq %d assigned %d times, want once", seq, seqs[seq])
		}
	}
	c, err := nodes[1].GetConversation(ctx, convID)
	if err != nil || c.LastSeq != n || c.MessageCount != n {
		t.Fatalf("conversation = %+v, %v; want LastSeq and MessageCount %d", c, err, n)
	}
}

// TestStore_ClientTokenRace sends one client token from many goroutines on
// two nodes at once: exactly one append creates the message, every other
// returns it, and the seq increments of the losers are not kept.
func TestStore_ClientTokenRace(t *testing.T) {
	u := freshSchema(t)
	nodes := []*postgres.Store{openURL(t, u), openURL(t, u)}
	userID, convID := fixture(t, nodes[0])
	const racers = 16
	type result struct {
		m       *confab.Message
		created bool
		err     error
	}
	results := make(chan result, racers)
	start := make(chan struct{})
	for i := range racers {
		go func() {
			<-start
			m := &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: convID, UserID: userID,
				Content: "once", MessageType: confab.MessageText, CreatedAt: time.Now(), ClientToken: "tok"}
			created, err := nodes[i%2].AppendMessage(ctx, m)
			results <- result{m, created, err}
		}()
	}
	close(start)
	created, ids := 0, map[string]bool{}
	for range racers {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.created {
			created++
		}
		ids[r.m.MessageID] = true
		if r.m.Seq != 1 {
			t.Errorf("message seq = %d, want 1", r.m.Seq)
		}
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("created = %d, distinct messages = %d; want 1 and 1", created, len(ids))
	}
	c, err := nodes[0].GetConversation(ctx, convID)
	if err != nil || c.LastSeq != 1 || c.MessageCount != 1 {
		t.Fatalf("conversation = %+v, %v; want LastSeq 1, MessageCount 1", c, err)
	}
}

// TestStore_MigrateConcurrently opens four stores on one empty schema at
// once, as nodes starting together do: the advisory lock lets exactly one
// apply each migration, and reopening applies nothing.
func TestStore_MigrateConcurrently(t *testing.T) {
	u := freshSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, u)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openURL(t, u)
	fixture(t, s) // the schema works
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	if n != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d (one per migration file, each applied once)", n, len(files))
	}
}

// TestStore_DeleteKeepsCursor deletes a conversation's newest message: its
// activity follows the new LastMessageAt, the value a list cursor is built
// from, so the next page starts right after it.
func TestStore_DeleteKeepsCursor(t *testing.T) {
	s := open(t)
	userID, convID := fixture(t, s)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 2 {
		m := &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: convID, UserID: userID, Content: fmt.Sprint("msg ", i),
			MessageType: confab.MessageText, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		if _, err := s.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.MessageID)
	}
	_, c, err := s.DeleteMessage(ctx, convID, ids[1], "", t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c.LastMessageAt == nil || !c.LastMessageAt.Equal(t0) || *c.LastMessage != "msg 0" {
		t.Fatalf("after delete: LastMessageAt = %v, LastMessage = %v; want %v, msg 0", c.LastMessageAt, c.LastMessage, t0)
	}
	page, err := s.ListConversations(ctx, userID, confab.ConversationPage{Limit: 10, After: &confab.ActivityCursor{ActivityAt: t0.Add(time.Millisecond), ConversationID: ""}})
	if err != nil || len(page) != 1 {
		t.Fatalf("page after a cursor just above the new activity = %d items, %v; want the conversation", len(page), err)
	}
	page, err = s.ListConversations(ctx, userID, confab.ConversationPage{Limit: 10, After: &confab.ActivityCursor{ActivityAt: t0, ConversationID: convID}})
	if err != nil || len(page) != 0 {
		t.Fatalf("page after the conversation's own cursor = %d items, %v; want none", len(page), err)
	}
}

func TestStore_NULIsInvalid(t *testing.T) {
	s := open(t)
	userID, convID := fixture(t, s)
	m := &confab.Message{MessageID: "m", ConversationID: convID, UserID: userID, Content: "a\x00b", MessageType: confab.MessageText, CreatedAt: time.Now()}
	if _, err := s.AppendMessage(ctx, m); confab.ErrorCode(err) != confab.CodeInvalid {
		t.Fatalf("append with NUL: %v, want %s", err, confab.CodeInvalid)
	}
	if _, err := s.GetConversation(ctx, "\x00"); confab.ErrorCode(err) != confab.CodeInvalid {
		t.Fatalf("get with NUL id: %v, want %s", err, confab.CodeInvalid)
	}
}

func TestStore_Unavailable(t *testing.T) {
	t.Run("ErrNoServer", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens on addr now
		_, err = postgres.Open(ctx, "postgres://postgres@"+addr+"/confab?sslmode=disable&connect_timeout=5")
		if confab.ErrorCode(err) != confab.CodeUnavailable {
			t.Fatalf("Open with no server: %v, want %s", err, confab.CodeUnavailable)
		}
	})
	t.Run("ErrAfterClose", func(t *testing.T) {
		s := open(t)
		s.Close()
		if _, err := s.GetUser(ctx, "u"); confab.ErrorCode(err) != confab.CodeUnavailable {
			t.Fatalf("GetUser after Close: %v, want %s", err, confab.CodeUnavailable)
		}
		if err := s.Ping(ctx); confab.ErrorCode(err) != confab.CodeUnavailable {
			t.Fatalf("Ping after Close: %v, want %s", err, confab.CodeUnavailable)
		}
	})
}
