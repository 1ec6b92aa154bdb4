package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/google/uuid"
)

// countingStore is the real SQLite store, counting the reads the
// per-page loaders must batch.
type countingStore struct {
	confab.Store
	reactions, unread, edits, getMessage atomic.Int64
}

func (s *countingStore) ListReactions(ctx context.Context, conversationID string, ids []string, userID string, usersPerKey int) (map[string][]confab.ReactionCount, error) {
	s.reactions.Add(1)
	return s.Store.ListReactions(ctx, conversationID, ids, userID, usersPerKey)
}

func (s *countingStore) CountUnreadReplies(ctx context.Context, conversationID, userID string, rootIDs []string) (map[string]int, error) {
	s.unread.Add(1)
	return s.Store.CountUnreadReplies(ctx, conversationID, userID, rootIDs)
}

func (s *countingStore) ListMessageEdits(ctx context.Context, conversationID, messageID string, limit int) ([]*confab.MessageEdit, error) {
	s.edits.Add(1)
	return s.Store.ListMessageEdits(ctx, conversationID, messageID, limit)
}

func (s *countingStore) GetMessage(ctx context.Context, conversationID, messageID string) (*confab.Message, error) {
	s.getMessage.Add(1)
	return s.Store.GetMessage(ctx, conversationID, messageID)
}

type featureEnv struct {
	svc   *chat.Service
	store *countingStore
	h     http.Handler
}

func newFeatureEnv(t *testing.T) *featureEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	cs := &countingStore{Store: st}
	// A clock a millisecond further at each reading, so the order of
	// reactions (by time, then key or user id on a tie) is the order the
	// test makes them in, however fast the host.
	var mu sync.Mutex
	clock := time.Now().UTC().Truncate(time.Millisecond)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Millisecond)
		return clock
	}
	svc := chat.New(cs, br, chat.Config{SendsPerSecond: -1, ConversationsPerMinute: -1}, chat.WithClock(now))
	t.Cleanup(svc.Close)
	srv := graph.NewServer(svc, graph.Limits{MaxComplexity: 100_000}, nil)
	srv.AddTransport(transport.POST{})
	return &featureEnv{svc: svc, store: cs, h: srv}
}

func (e *featureEnv) user(t *testing.T, name string) confab.Identity {
	t.Helper()
	id := uuid.NewString()
	err := e.store.InsertAccount(context.Background(), &confab.Account{
		User:         confab.User{UserID: id, Username: name, Email: name + "@example.com", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)},
		PasswordHash: "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	return confab.Identity{UserID: id, Username: name}
}

// query runs one operation as who and decodes its data into out.
func (e *featureEnv) query(t *testing.T, who confab.Identity, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(confab.WithIdentity(req.Context(), who))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var resp struct {
		Data   json.RawMessage
		Errors []gqlError
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	if len(resp.Errors) > 0 {
		t.Fatalf("errors: %+v", resp.Errors)
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		t.Fatal(err)
	}
}

type pageMessage struct {
	MessageID     string
	Content       string
	ReplyCount    int
	UnreadReplies int
	Mentions      []string
	Edits         []struct{ Content string }
	Reactions     []struct {
		Key         string
		Count       int
		ReactedByMe bool
		Few         []string
		Many        []string
	}
}

// TestLoaders_PageOfMessages: a page of 100 messages with reactions,
// replies and edits costs one ListReactions and one CountUnreadReplies
// (whatever userIds limits it asks), and an edits read only for messages
// that were edited; the caller-dependent fields are right for each caller.
func TestLoaders_PageOfMessages(t *testing.T) {
	ctx := context.Background()
	e := newFeatureEnv(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	c, err := e.svc.CreateConversation(ctx, alice, nil, []string{bob.UserID})
	if err != nil {
		t.Fatal(err)
	}
	cid := c.ConversationID
	const n = 100
	for i := range n {
		m, err := e.svc.SendMessage(ctx, alice, chat.SendMessageInput{ConversationID: cid, Content: fmt.Sprint("m", i), Mentions: []string{bob.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddReaction(ctx, bob, cid, m.MessageID, "👍"); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			for _, who := range []confab.Identity{alice, bob} {
				if _, err := e.svc.AddReaction(ctx, who, cid, m.MessageID, ":tada:"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.svc.SendMessage(ctx, bob, chat.SendMessageInput{ConversationID: cid, Content: "reply", ParentMessageID: m.MessageID}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.EditMessage(ctx, alice, cid, m.MessageID, fmt.Sprint("m", i, " edited")); err != nil {
				t.Fatal(err)
			}
		}
	}

	const q = `query($c: ID!) { listMessages(conversationId: $c, limit: 100) { items {
		messageId content replyCount unreadReplies mentions edits { content }
		reactions { key count reactedByMe few: userIds(limit: 1) many: userIds }
	} } }`
	for _, tt := range []struct {
		who              confab.Identity
		unread           int
		tadaMine, upMine bool
	}{
		{alice, 1, true, false},
		{bob, 0, true, true},
	} {
		t.Run(tt.who.Username, func(t *testing.T) {
			e.store.reactions.Store(0)
			e.store.unread.Store(0)
			e.store.edits.Store(0)
			var out struct{ ListMessages struct{ Items []pageMessage } }
			e.query(t, tt.who, q, map[string]any{"c": cid}, &out)
			items := out.ListMessages.Items
			if len(items) != n {
				t.Fatalf("%d items, want %d (replies stay in their threads)", len(items), n)
			}
			if r, u, ed := e.store.reactions.Load(), e.store.unread.Load(), e.store.edits.Load(); r != 1 || u != 1 || ed != n/10 {
				t.Fatalf("store reads: ListReactions %d, CountUnreadReplies %d, ListMessageEdits %d; want 1, 1, %d", r, u, ed, n/10)
			}
			for _, m := range items {
				edited := m.ReplyCount > 0
				if len(m.Mentions) != 1 || m.Mentions[0] != bob.UserID {
					t.Fatalf("%s: mentions %v", m.Content, m.Mentions)
				}
				wantKeys := 1
				if edited {
					wantKeys = 2
				}
				if len(m.Reactions) != wantKeys || m.Reactions[0].Key != "👍" || m.Reactions[0].ReactedByMe != tt.upMine {
					t.Fatalf("%s: reactions %+v", m.Content, m.Reactions)
				}
				if !edited {
					if m.UnreadReplies != 0 || len(m.Edits) != 0 {
						t.Fatalf("%s: unread %d, edits %v; want none", m.Content, m.UnreadReplies, m.Edits)
					}
					continue
				}
				tada := m.Reactions[1]
				if tada.Key != ":tada:" || tada.Count != 2 || !tada.ReactedByMe || len(tada.Few) != 1 || len(tada.Many) != 2 || tada.Many[0] != alice.UserID {
					t.Fatalf("%s: :tada: = %+v; want 2 by alice then bob, limit 1 giving 1", m.Content, tada)
				}
				if m.UnreadReplies != tt.unread || len(m.Edits) != 1 {
					t.Fatalf("%s: unread %d (want %d), edits %v (want 1)", m.Content, m.UnreadReplies, tt.unread, m.Edits)
				}
			}
		})
	}

	t.Run("ErrUserIdsLimit", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"query": `query($c: ID!) { listMessages(conversationId: $c, limit: 1) { items { reactions { userIds(limit: 101) } } } }`, "variables": map[string]any{"c": cid}})
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req = req.WithContext(confab.WithIdentity(req.Context(), alice))
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		var resp struct{ Errors []gqlError }
		json.Unmarshal(rec.Body.Bytes(), &resp)
		if len(resp.Errors) == 0 || resp.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Fatalf("userIds(limit: 101): %s; want BAD_USER_INPUT", rec.Body.String())
		}
	})
}

// TestLoaders_UserIdsLimitAboveDefault: the reactions read takes as many
// user ids per key as the largest userIds(limit) asked, written inline or
// as a variable, beyond the default of 10.
func TestLoaders_UserIdsLimitAboveDefault(t *testing.T) {
	ctx := context.Background()
	e := newFeatureEnv(t)
	const n = confab.DefaultReactionUsers + 2
	var users []confab.Identity
	var ids []string
	for i := range n {
		u := e.user(t, fmt.Sprint("u", i))
		users = append(users, u)
		ids = append(ids, u.UserID)
	}
	c, err := e.svc.CreateConversation(ctx, users[0], nil, ids[1:])
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.svc.SendMessage(ctx, users[0], chat.SendMessageInput{ConversationID: c.ConversationID, Content: "vote"})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := e.svc.AddReaction(ctx, u, c.ConversationID, m.MessageID, "+1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, query string
		want        int
	}{
		{"Default", `query($c:ID!,$m:ID!){ getMessage(conversationId:$c, messageId:$m){ reactions { userIds } } }`, confab.DefaultReactionUsers},
		{"Inline", `query($c:ID!,$m:ID!){ getMessage(conversationId:$c, messageId:$m){ reactions { userIds(limit: 12) } } }`, n},
		{"Variable", `query($c:ID!,$m:ID!,$n:Int){ getMessage(conversationId:$c, messageId:$m){ reactions { userIds(limit: $n) } } }`, n},
		{"Fragment", `query($c:ID!,$m:ID!){ getMessage(conversationId:$c, messageId:$m){ reactions { ...R } } } fragment R on ReactionCount { userIds(limit: 12) }`, n},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				GetMessage struct{ Reactions []struct{ UserIds []string } }
			}
			e.query(t, users[0], tt.query, map[string]any{"c": c.ConversationID, "m": m.MessageID, "n": n}, &out)
			if r := out.GetMessage.Reactions; len(r) != 1 || len(r[0].UserIds) != tt.want || r[0].UserIds[0] != ids[0] {
				t.Fatalf("reactions = %+v; want %d user ids, the first reactor first", r, tt.want)
			}
		})
	}
}
