package postgres_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/postgres"
	"github.com/jackc/pgx/v5"
)

// addUser inserts a user, member of no conversation.
func addUser(t *testing.T, s confab.Store, id string) {
	t.Helper()
	u := confab.User{UserID: id, Username: id, Email: id + "@example.com", CreatedAt: time.Now().UTC()}
	if err := s.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
}

func addConversation(t *testing.T, s confab.Store, id string, members ...string) {
	t.Helper()
	now := time.Now().UTC()
	c := &confab.Conversation{ConversationID: id, CreatedBy: members[0], CreatedAt: now}
	for _, u := range members {
		c.Members = append(c.Members, confab.Member{UserID: u, JoinedAt: now})
	}
	if err := s.InsertConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
}

func send(t *testing.T, s confab.Store, m *confab.Message) *confab.Message {
	t.Helper()
	if m.MessageType == "" {
		m.MessageType = confab.MessageText
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	if _, err := s.AppendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// allChanges reads the whole log in pages of 7.
func allChanges(t *testing.T, s confab.Store, convID string) []*confab.Change {
	t.Helper()
	var all []*confab.Change
	for {
		after := int64(0)
		if len(all) > 0 {
			after = all[len(all)-1].ChangeSeq
		}
		page, err := s.ListChanges(ctx, convID, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 7 {
			return all
		}
	}
}

// TestStore_ChangeLogTwoNodes has 8 writers on two nodes send, reply,
// edit, react, unreact and delete in one conversation at once: no call
// fails, the log holds exactly the changes made with ChangeSeqs 1..N, the
// conversation's LastChangeSeq is N, and every message's ChangeSeq is the
// last change about it.
func TestStore_ChangeLogTwoNodes(t *testing.T) {
	u := freshSchema(t)
	nodes := []*postgres.Store{openURL(t, u), openURL(t, u)}
	userID, convID := fixture(t, nodes[0])
	root := send(t, nodes[0], &confab.Message{MessageID: "root", ConversationID: convID, UserID: userID, Content: "root"})

	const writers, rounds = 8, 6
	var (
		mu    sync.Mutex
		kinds = map[confab.ChangeKind]int{confab.ChangeMessageSent: 1}
		wg    sync.WaitGroup
	)
	count := func(k confab.ChangeKind) { mu.Lock(); kinds[k]++; mu.Unlock() }
	for w := range writers {
		wg.Go(func() {
			s := nodes[w%2]
			for i := range rounds {
				m := &confab.Message{MessageID: fmt.Sprintf("m-%d-%d", w, i), ConversationID: convID, UserID: userID,
					Content: "hello", MessageType: confab.MessageText, CreatedAt: time.Now()}
				if i%2 == 1 {
					m.ParentMessageID = root.MessageID
				}
				if _, err := s.AppendMessage(ctx, m); err != nil {
					t.Error(err)
					return
				}
				count(confab.ChangeMessageSent)
				if m.ParentMessageID != "" {
					count(confab.ChangeThreadUpdated)
				}
				if _, err := s.EditMessage(ctx, convID, m.MessageID, "edited", time.Now()); err != nil {
					t.Error(err)
					return
				}
				count(confab.ChangeMessageEdited)
				r := &confab.Reaction{ConversationID: convID, MessageID: root.MessageID, UserID: fmt.Sprint("w", w), Key: fmt.Sprint(":k", i, ":"), At: time.Now()}
				if added, _, err := s.AddReaction(ctx, r, confab.DefaultMaxReactionKeys); err != nil || !added {
					t.Errorf("AddReaction = %v, %v", added, err)
					return
				}
				count(confab.ChangeReactionAdded)
				if i%3 == 2 {
					if removed, _, err := s.RemoveReaction(ctx, r); err != nil || !removed {
						t.Errorf("RemoveReaction = %v, %v", removed, err)
						return
					}
					count(confab.ChangeReactionRemoved)
				}
				if i == rounds-1 {
					if _, _, err := s.DeleteMessage(ctx, convID, m.MessageID, "", time.Now()); err != nil {
						t.Error(err)
						return
					}
					count(confab.ChangeMessageDeleted)
					count(confab.ChangeThreadUpdated) // the last round's message is a reply
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	changes := allChanges(t, nodes[1], convID)
	total := 0
	for _, n := range kinds {
		total += n
	}
	if len(changes) != total {
		t.Fatalf("%d changes in the log, want %d (%v)", len(changes), total, kinds)
	}
	got := map[confab.ChangeKind]int{}
	last := map[string]int64{}
	for i, c := range changes {
		if c.ChangeSeq != int64(i+1) {
			t.Fatalf("change %d has ChangeSeq %d: the log has a gap or a duplicate", i+1, c.ChangeSeq)
		}
		got[c.Kind]++
		last[c.MessageID] = c.ChangeSeq
	}
	for k, n := range kinds {
		if got[k] != n {
			t.Errorf("%d %s changes, want %d", got[k], k, n)
		}
	}
	c, err := nodes[0].GetConversation(ctx, convID)
	if err != nil || c.LastChangeSeq != int64(total) {
		t.Fatalf("conversation LastChangeSeq = %v (%v), want %d", c, err, total)
	}
	after, err := nodes[0].ListMessagesAfter(ctx, convID, 0, confab.MaxPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range after {
		if m.ChangeSeq != last[m.MessageID] {
			t.Errorf("message %s has ChangeSeq %d, want %d, its last change", m.MessageID, m.ChangeSeq, last[m.MessageID])
		}
	}
	r, err := nodes[0].GetMessage(ctx, convID, root.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	// Replies are the odd rounds (1, 3, 5); the last one of each writer is deleted.
	if want := writers * (rounds/2 - 1); r.ReplyCount != want {
		t.Errorf("root ReplyCount = %d, want %d", r.ReplyCount, want)
	}
}

// TestStore_ReplyToMissingRoot: a reply to a root that is not a live
// message of the conversation is CodeNotFound and writes nothing.
func TestStore_ReplyToMissingRoot(t *testing.T) {
	s := open(t)
	userID, convID := fixture(t, s)
	root := send(t, s, &confab.Message{MessageID: "root", ConversationID: convID, UserID: userID, Content: "root"})
	if _, _, err := s.DeleteMessage(ctx, convID, root.MessageID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, parent := range []string{"missing", root.MessageID} {
		m := &confab.Message{MessageID: "reply-" + parent, ConversationID: convID, UserID: userID, Content: "re",
			MessageType: confab.MessageText, CreatedAt: time.Now(), ParentMessageID: parent, Mentions: []string{"u9"}}
		if _, err := s.AppendMessage(ctx, m); confab.ErrorCode(err) != confab.CodeNotFound {
			t.Fatalf("reply to %s: %v, want %s", parent, err, confab.CodeNotFound)
		}
	}
	c, err := s.GetConversation(ctx, convID)
	if err != nil || c.LastSeq != 1 || c.LastChangeSeq != 2 || c.MessageCount != 0 {
		t.Fatalf("conversation after refused replies = %+v, %v; want LastSeq 1, LastChangeSeq 2, MessageCount 0", c, err)
	}
}

// TestStore_EditReindexes: an edit replaces the message's words in the
// search index (both searches), keeps the old version, and moves the
// preview only for the newest message.
func TestStore_EditReindexes(t *testing.T) {
	s := open(t)
	userID, convID := fixture(t, s)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	old := send(t, s, &confab.Message{MessageID: "m1", ConversationID: convID, UserID: userID, Content: "apple pie", CreatedAt: t0})
	send(t, s, &confab.Message{MessageID: "m2", ConversationID: convID, UserID: userID, Content: "newest", CreatedAt: t0.Add(time.Second)})

	at := t0.Add(time.Minute)
	m, err := s.EditMessage(ctx, convID, old.MessageID, "banana split", at)
	if err != nil {
		t.Fatal(err)
	}
	if m.Content != "banana split" || m.EditedAt == nil || !m.EditedAt.Equal(at) || m.ChangeSeq != 3 {
		t.Fatalf("edited message = %+v", m)
	}
	for term, want := range map[string]int{"apple": 0, "banan": 1, "split": 1} {
		hits, err := s.SearchMessages(ctx, convID, term, 10)
		if err != nil || len(hits) != want {
			t.Errorf("SearchMessages(%q) = %d hits, %v; want %d", term, len(hits), err, want)
		}
		hits, err = s.SearchAllMessages(ctx, userID, term, "", 10)
		if err != nil || len(hits) != want {
			t.Errorf("SearchAllMessages(%q) = %d hits, %v; want %d", term, len(hits), err, want)
		}
	}
	edits, err := s.ListMessageEdits(ctx, convID, old.MessageID, 10)
	if err != nil || len(edits) != 1 || edits[0].Content != "apple pie" || !edits[0].At.Equal(t0) || !edits[0].ReplacedAt.Equal(at) {
		t.Fatalf("ListMessageEdits = %+v, %v; want the first version", edits, err)
	}
	c, err := s.GetConversation(ctx, convID)
	if err != nil || *c.LastMessage != "newest" {
		t.Fatalf("preview after editing an older message = %q, %v; want newest", *c.LastMessage, err)
	}
	if _, err := s.EditMessage(ctx, convID, "m2", "newest, edited", at); err != nil {
		t.Fatal(err)
	}
	if c, err = s.GetConversation(ctx, convID); err != nil || *c.LastMessage != "newest, edited" {
		t.Fatalf("preview after editing the newest = %q, %v", *c.LastMessage, err)
	}
}

// TestStore_SearchAllMemberships: SearchAllMessages finds hits in the
// user's conversations only, newest first, and pages by message id.
func TestStore_SearchAllMemberships(t *testing.T) {
	s := open(t)
	addUser(t, s, "ann")
	addUser(t, s, "bo")
	addConversation(t, s, "both", "ann", "bo")
	addConversation(t, s, "bo-only", "bo")
	for i, conv := range []string{"both", "bo-only", "both", "both"} {
		send(t, s, &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: conv, UserID: "bo", Content: "needle"})
	}
	page, err := s.SearchAllMessages(ctx, "ann", "needle", "", 2)
	if err != nil || len(page) != 2 || page[0].MessageID != "m3" || page[1].MessageID != "m2" {
		t.Fatalf("first page = %v, %v; want m3 m2", ids(page), err)
	}
	page, err = s.SearchAllMessages(ctx, "ann", "needle", "m2", 2)
	if err != nil || len(page) != 1 || page[0].MessageID != "m0" {
		t.Fatalf("second page = %v, %v; want m0 (m1 is in a conversation ann is not in)", ids(page), err)
	}
}

func ids(ms []*confab.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.MessageID)
	}
	return out
}

// TestStore_PurgeTakesFeatures: purging a message removes its edits,
// reactions, mentions, change log entries and thread marks from the
// tables, not only from the reads.
func TestStore_PurgeTakesFeatures(t *testing.T) {
	u := freshSchema(t)
	s := openURL(t, u)
	addUser(t, s, "ann")
	addUser(t, s, "bo")
	addConversation(t, s, "c", "ann", "bo")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	root := send(t, s, &confab.Message{MessageID: "root", ConversationID: "c", UserID: "ann", Content: "hi @bo", Mentions: []string{"bo"}, CreatedAt: t0})
	send(t, s, &confab.Message{MessageID: "reply", ConversationID: "c", UserID: "bo", Content: "hi", ParentMessageID: "root", CreatedAt: t0})
	if _, err := s.EditMessage(ctx, "c", root.MessageID, "hello @bo", t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddReaction(ctx, &confab.Reaction{ConversationID: "c", MessageID: "root", UserID: "bo", Key: "+1", At: t0}, 50); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkThreadRead(ctx, "c", "root", "ann", 2); err != nil {
		t.Fatal(err)
	}
	if c, err := s.GetConversation(ctx, "c"); err != nil || c.Member("bo").UnreadMentions != 1 || c.Member("ann").UnreadMentions != 0 {
		t.Fatalf("unread mentions before purge = %+v, %v; want bo 1, ann 0", c, err)
	}
	if n, err := s.PurgeMessages(ctx, t0.Add(time.Hour), 10); err != nil || n != 2 {
		t.Fatalf("PurgeMessages = %d, %v; want 2", n, err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{"changes", "message_edits", "reactions", "mentions", "thread_reads"} {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d rows after the purge (%v), want 0", table, n, err)
		}
	}
	c, err := s.GetConversation(ctx, "c")
	if err != nil || c.LastChangeSeq != 5 || c.Member("bo").UnreadMentions != 0 {
		t.Fatalf("conversation after purge = %+v, %v; want LastChangeSeq kept (5), no unread mention", c, err)
	}
}
