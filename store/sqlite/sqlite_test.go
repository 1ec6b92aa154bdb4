package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/sqlmigrate"
	"github.com/confab-chat/confab/store/storetest"
	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine (the writer, a pool's
// opener) outlives the tests: every Store here is closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func openTemp(t *testing.T) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "confab.db"))
}

func TestStore_Contract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) confab.Store { return openTemp(t) })
}

// seed inserts a user "u1" and a conversation "c1" with that member.
func seed(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	if err := s.InsertAccount(ctx, &confab.Account{User: confab.User{UserID: "u1", Username: "ann", Email: "ann@example.com", CreatedAt: at}, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &confab.Conversation{ConversationID: "c1", CreatedBy: "u1", CreatedAt: at, Members: []confab.Member{{UserID: "u1", JoinedAt: at}}}
	if err := s.InsertConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
}

func msg(id, conv, content string) *confab.Message {
	return &confab.Message{MessageID: id, ConversationID: conv, UserID: "u1", Content: content, MessageType: confab.MessageText,
		CreatedAt: time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)}
}

// waitFor spins until cond holds, failing after a deadline. It is for
// states no channel announces (a request sitting in the writer's queue).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// holdWriteConn takes the store's only write connection, so the writer
// blocks at BEGIN with the batch it took, until release is called.
func holdWriteConn(t *testing.T, s *Store) (release func()) {
	t.Helper()
	conn, err := s.write.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { conn.Close() }) }
	t.Cleanup(release)
	return release
}

func TestOpen_Pragmas(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	for _, pool := range []struct {
		name string
		q    interface {
			QueryRowContext(context.Context, string, ...any) *sql.Row
		}
	}{{"write", s.write}, {"read", s.read}} {
		for _, tt := range []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"synchronous", "2"}, // FULL
			{"foreign_keys", "1"},
			{"busy_timeout", fmt.Sprint(busyTimeout)},
		} {
			var got string
			if err := pool.q.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s connection: PRAGMA %s = %s, want %s", pool.name, tt.pragma, got, tt.want)
			}
		}
	}
	var fts int
	if err := s.read.QueryRowContext(ctx, `SELECT sqlite_compileoption_used('ENABLE_FTS5')`).Scan(&fts); err != nil || fts != 1 {
		t.Errorf("FTS5 compiled in = %d, %v; want 1", fts, err)
	}
}

func TestOpen_MigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "confab.db")
	versions := func(s *Store) []string {
		t.Helper()
		rows, err := s.read.Query(`SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var v []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			v = append(v, s)
		}
		return v
	}
	files, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, f.Name())
	}

	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	if got := versions(s); !slices.Equal(got, want) {
		t.Fatalf("applied = %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s = openAt(t, path)
		if got := versions(s); !slices.Equal(got, want) {
			t.Fatalf("applied after reopen = %v, want %v", got, want)
		}
		if ran, err := sqlmigrate.Apply(context.Background(), s.write, migrations, "migrations"); err != nil || len(ran) != 0 {
			t.Fatalf("Apply on an up-to-date database ran %v, %v; want nothing", ran, err)
		}
		if _, err := s.GetConversation(context.Background(), "c1"); err != nil {
			t.Fatalf("data after reopen: %v", err)
		}
	}
}

// TestStore_ReopenKeepsData closes and reopens the file: everything
// acknowledged is there, the search index included.
func TestStore_ReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "confab.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	for i := range 20 {
		if _, err := s.AppendMessage(ctx, msg(fmt.Sprint("m", i), "c1", fmt.Sprint("durable note ", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.DeleteMessage(ctx, "c1", "m19", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = openAt(t, path)
	c, err := s.GetConversation(ctx, "c1")
	if err != nil || c.LastSeq != 20 || c.MessageCount != 19 || c.LastMessage == nil || *c.LastMessage != "durable note 18" {
		t.Fatalf("after reopen: %+v, %v; want seq 20, 19 messages, preview of the 19th", c, err)
	}
	found, err := s.SearchMessages(ctx, "c1", "durable", 100)
	if err != nil || len(found) != 19 || found[0].Seq != 19 {
		t.Fatalf("search after reopen = %d messages, %v; want 19, newest seq 19", len(found), err)
	}
	m := msg("m20", "c1", "after")
	if _, err := s.AppendMessage(ctx, m); err != nil || m.Seq != 21 {
		t.Fatalf("append after reopen: seq %d, %v; want 21", m.Seq, err)
	}
}

// TestWriter_BatchIsolation runs one batch through the writer's commit
// directly, so its composition is exact: failing appends are answered with
// their own error, leave their message as it was, and do not fail their
// batch-mates, whose seqs stay gapless.
func TestWriter_BatchIsolation(t *testing.T) {
	s := openTemp(t)
	seed(t, s)
	ctx := context.Background()
	before := s.WriterStats()

	retry := msg("m-tok-2", "c1", "again")
	retry.ClientToken = "tok"
	withToken := msg("m-tok", "c1", "tokened")
	withToken.ClientToken = "tok"
	items := []struct {
		m        *confab.Message
		created  bool
		code     confab.Code
		seq      int64
		resultID string
	}{
		{m: msg("m1", "c1", "alpha one"), created: true, seq: 1, resultID: "m1"},
		{m: msg("m2", "missing", "alpha lost"), code: confab.CodeNotFound},
		{m: msg("m1", "c1", "alpha duplicate id"), code: confab.CodeConflict},
		{m: withToken, created: true, seq: 2, resultID: "m-tok"},
		{m: retry, seq: 2, resultID: "m-tok"}, // the same token: the stored message
		{m: msg("m3", "c1", "alpha three"), created: true, seq: 3, resultID: "m3"},
	}
	batch := make([]*appendReq, len(items))
	for i, it := range items {
		batch[i] = &appendReq{m: it.m, done: make(chan struct{})}
		batch[i].state.Store(reqTaken)
	}
	s.w.commit(batch) // the loop is idle: no append is in flight
	for i, it := range items {
		r := batch[i]
		select {
		case <-r.done:
		default:
			t.Fatalf("item %d not answered", i)
		}
		if r.created != it.created || confab.ErrorCode(r.err) != it.code {
			t.Errorf("item %d = created %v, %v; want %v, code %q", i, r.created, r.err, it.created, it.code)
		}
		if it.code != "" {
			if r.m.Seq != 0 {
				t.Errorf("failed item %d has seq %d, want its message untouched", i, r.m.Seq)
			}
			continue
		}
		if r.m.Seq != it.seq || r.m.MessageID != it.resultID {
			t.Errorf("item %d = %s seq %d, want %s seq %d", i, r.m.MessageID, r.m.Seq, it.resultID, it.seq)
		}
	}
	if got := s.WriterStats(); got.Batches-before.Batches != 1 || got.Appends-before.Appends != uint64(len(items)) {
		t.Errorf("writer stats went %+v → %+v, want one batch of %d", before, got, len(items))
	}
	c, err := s.GetConversation(ctx, "c1")
	if err != nil || c.LastSeq != 3 || c.MessageCount != 3 || *c.LastMessage != "alpha three" {
		t.Fatalf("summary = %+v, %v; want 3 messages, the last alpha three", c, err)
	}
	found, err := s.SearchMessages(ctx, "c1", "alpha", 10)
	if err != nil || len(found) != 2 || found[0].MessageID != "m3" || found[1].MessageID != "m1" {
		t.Fatalf("search alpha = %+v, %v; want m3, m1 (indexed once each, failed items not at all)", found, err)
	}
}

// TestWriter_GroupCommit holds the write connection while the writer is
// stuck on a first append and 64 callers queue behind it: every caller is
// answered, the failing one alone fails, and the queued appends share a
// transaction.
func TestWriter_GroupCommit(t *testing.T) {
	s := openTemp(t)
	seed(t, s)
	ctx := context.Background()
	release := holdWriteConn(t, s)
	first := &appendReq{m: msg("m-first", "c1", "first"), done: make(chan struct{})}
	s.w.reqs <- first
	waitFor(t, "the writer to take the first append", func() bool { return first.state.Load() == reqTaken })
	const n = 64
	type result struct {
		m   *confab.Message
		err error
	}
	results := make(chan result, n)
	for i := range n {
		conv := "c1"
		if i == 7 {
			conv = "missing"
		}
		go func() {
			m := msg(fmt.Sprint("m", i), conv, "x")
			_, err := s.AppendMessage(ctx, m)
			results <- result{m, err}
		}()
	}
	waitFor(t, "appends to queue", func() bool { return len(s.w.reqs) == n })
	release()
	<-first.done
	if first.err != nil {
		t.Fatalf("first append: %v", first.err)
	}
	got := []int64{first.m.Seq}
	for range n {
		r := <-results
		if r.m.ConversationID == "missing" {
			if confab.ErrorCode(r.err) != confab.CodeNotFound {
				t.Errorf("append to a missing conversation: %v, want NOT_FOUND", r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("append %s: %v", r.m.MessageID, r.err)
		}
		got = append(got, r.m.Seq)
	}
	slices.Sort(got)
	for i, seq := range got {
		if seq != int64(i+1) {
			t.Fatalf("seqs = %v, want 1..%d", got, n)
		}
	}
	// The first append is a batch of its own; the 64 queued behind it fit
	// in one (maxBatch is larger).
	st := s.WriterStats()
	if st.Appends != n+1 || st.Batches != 2 {
		t.Fatalf("writer stats = %+v; want %d appends in 2 batches", st, n+1)
	}
	t.Logf("%d appends in %d batches", st.Appends, st.Batches)
}

// TestWriter_CancelBeforeTaken cancels a caller whose append is still
// queued behind a batch that cannot commit: it is answered ctx.Err() at
// once, and its message is never written.
func TestWriter_CancelBeforeTaken(t *testing.T) {
	s := openTemp(t)
	seed(t, s)
	release := holdWriteConn(t, s)

	first := &appendReq{m: msg("m1", "c1", "first"), done: make(chan struct{})}
	s.w.reqs <- first
	waitFor(t, "the writer to take the first append", func() bool { return first.state.Load() == reqTaken })

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.AppendMessage(ctx, msg("m2", "c1", "never"))
		errc <- err
	}()
	waitFor(t, "the second append to queue", func() bool { return len(s.w.reqs) == 1 })
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled append = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled, queued append was not answered while the writer was blocked")
	}
	release()
	<-first.done
	if first.err != nil || first.m.Seq != 1 {
		t.Fatalf("first append = seq %d, %v", first.m.Seq, first.err)
	}
	c, err := s.GetConversation(context.Background(), "c1")
	if err != nil || c.LastSeq != 1 {
		t.Fatalf("conversation = %+v, %v; want only the first message", c, err)
	}
	if _, err := s.AppendMessage(ctx, msg("m3", "c1", "x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a cancelled ctx = %v, want context.Canceled", err)
	}
}

// TestStore_CloseWhileAppending closes the store under concurrent appends:
// each caller gets success (and the message survives) or UNAVAILABLE, and
// no caller hangs.
func TestStore_CloseWhileAppending(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "confab.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	const n = 64
	type result struct {
		m   *confab.Message
		err error
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			m := msg(fmt.Sprint("m", i), "c1", "x")
			_, err := s.AppendMessage(ctx, m)
			results <- result{m, err}
		}()
	}
	close(start)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ok := map[string]bool{}
	for range n {
		r := <-results
		switch confab.ErrorCode(r.err) {
		case "":
			ok[r.m.MessageID] = true
		case confab.CodeUnavailable:
		default:
			t.Fatalf("append during Close: %v", r.err)
		}
	}
	s = openAt(t, path)
	after, err := s.ListMessagesAfter(ctx, "c1", 0, 2*n)
	if err != nil || len(after) != len(ok) {
		t.Fatalf("after reopen %d messages, %v; %d were acknowledged", len(after), err, len(ok))
	}
	for _, m := range after {
		if !ok[m.MessageID] {
			t.Fatalf("message %s stored but its caller got an error", m.MessageID)
		}
	}
}

func TestStore_CloseStopsWriter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	if _, err := s.AppendMessage(context.Background(), msg("m1", "c1", "x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = s.AppendMessage(context.Background(), msg("m2", "c1", "x"))
	if confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("append after Close = %v, want UNAVAILABLE", err)
	}
}

func TestMapErr(t *testing.T) {
	s := openTemp(t)
	seed(t, s)
	ctx := context.Background()
	_, err := s.write.ExecContext(ctx, `INSERT INTO users (user_id, username, email, email_lower, created_at, password_hash) VALUES ('u2', 'ann', 'x', 'x', 0, 'h')`)
	if got := confab.ErrorCode(mapErr("test", err)); got != confab.CodeConflict {
		t.Errorf("unique violation → %q (%v), want CONFLICT", got, err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO members (conversation_id, user_id, joined_at) VALUES ('c1', 'ghost', 0)`)
	if got := confab.ErrorCode(mapErr("test", err)); got != confab.CodeNotFound {
		t.Errorf("foreign key violation → %q (%v), want NOT_FOUND", got, err)
	}
	_, err = s.write.ExecContext(ctx, `SELECT * FROM no_such_table`)
	if got := mapErr("test", err); confab.ErrorCode(got) != confab.CodeInternal || !errors.Is(got, err) {
		t.Errorf("other error → %v, want a wrapped internal error", got)
	}
	if mapErr("test", nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
}

func TestFTSQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  !? ", ""},
		{"pizza", `"pizza"*`},
		{"Pizza, café!", `"Pizza"* AND "café"*`},
		{`" OR 1=1 --`, `"OR"* AND "1"* AND "1"*`},
		{`NEAR(a b)`, `"NEAR"* AND "a"* AND "b"*`},
		{`col:x*`, `"col"* AND "x"*`},
		{"e\u0301t\u00e9", "\"e\u0301t\u00e9\"*"},
		{"a b c d e f g h i j k l m n o p q r", `"a"* AND "b"* AND "c"* AND "d"* AND "e"* AND "f"* AND "g"* AND "h"* AND "i"* AND "j"* AND "k"* AND "l"* AND "m"* AND "n"* AND "o"* AND "p"*`},
	}
	for _, tt := range tests {
		if got := ftsQuery(tt.in); got != tt.want {
			t.Errorf("ftsQuery(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
