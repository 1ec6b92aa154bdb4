package dynamodb_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
)

// Two stores on the same tables are two nodes: their sends, edits and
// reactions in one conversation race for its counters (each node
// serialises only its own), and the change log still comes out 1..N,
// each ChangeSeq the one its writer was given.
func TestChanges_TwoNodesGapless(t *testing.T) {
	prefix := freshPrefix(t)
	nodes := []*dynamodb.Store{openPrefix(t, prefix), openPrefix(t, prefix)}
	userID, convID := seed(t, nodes[0])
	const writers, rounds = 3, 4
	var mu sync.Mutex
	given := map[int64]string{}
	give := func(seq int64, what string) {
		mu.Lock()
		defer mu.Unlock()
		if prev, dup := given[seq]; dup {
			t.Errorf("ChangeSeq %d given to %s and %s", seq, prev, what)
		}
		given[seq] = what
	}
	var wg sync.WaitGroup
	for n, s := range nodes {
		for w := range writers {
			wg.Go(func() {
				for i := range rounds {
					id := fmt.Sprintf("m-%d-%d-%d", n, w, i)
					m := &confab.Message{MessageID: id, ConversationID: convID, UserID: userID, Content: "x",
						MessageType: confab.MessageText, CreatedAt: t0.Add(time.Second)}
					if _, err := s.AppendMessage(t.Context(), m); err != nil {
						t.Error(err)
						return
					}
					give(m.ChangeSeq, "send "+id)
					e, err := s.EditMessage(t.Context(), convID, id, "y", t0.Add(2*time.Second))
					if err != nil {
						t.Error(err)
						return
					}
					give(e.ChangeSeq, "edit "+id)
					r := &confab.Reaction{ConversationID: convID, MessageID: id, UserID: userID, Key: "+1", At: t0.Add(3 * time.Second)}
					if _, rm, err := s.AddReaction(t.Context(), r, confab.DefaultMaxReactionKeys); err != nil {
						t.Error(err)
						return
					} else {
						give(rm.ChangeSeq, "react "+id)
					}
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	const total = 2 * writers * rounds * 3
	chs, err := nodes[1].ListChanges(t.Context(), convID, 0, 1000)
	if err != nil || len(chs) != total {
		t.Fatalf("ListChanges = %d changes, %v; want %d", len(chs), err, total)
	}
	for i, ch := range chs {
		if ch.ChangeSeq != int64(i+1) || given[ch.ChangeSeq] == "" {
			t.Fatalf("change %d has ChangeSeq %d (%s), want %d", i, ch.ChangeSeq, given[ch.ChangeSeq], i+1)
		}
	}
	c, err := nodes[0].GetConversation(t.Context(), convID)
	if err != nil || c.LastChangeSeq != total || c.LastSeq != total/3 {
		t.Fatalf("conversation %+v, %v; want LastChangeSeq %d, LastSeq %d", c, err, total, total/3)
	}
}

// Appends committed together in one batch each get their own seq and
// ChangeSeq, and mentions of one member across the batch all count.
func TestAppendMessage_GroupCommitMentions(t *testing.T) {
	s := open(t)
	userID, _ := seed(t, s)
	bo := confab.User{UserID: "u2", Username: "bo", Email: "bo@example.com", CreatedAt: t0}
	if err := s.InsertAccount(t.Context(), &confab.Account{User: bo, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c2 := &confab.Conversation{ConversationID: "c2", CreatedBy: userID, CreatedAt: t0,
		Members: []confab.Member{{UserID: userID, JoinedAt: t0}, {UserID: "u2", JoinedAt: t0}}}
	if err := s.InsertConversation(t.Context(), c2); err != nil {
		t.Fatal(err)
	}
	const n = 30
	msgs := make([]*confab.Message, n)
	var wg sync.WaitGroup
	for i := range n {
		msgs[i] = &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: "c2", UserID: userID, Content: "@bo",
			MessageType: confab.MessageText, CreatedAt: t0.Add(time.Second), Mentions: []string{"u2", userID}}
		wg.Go(func() {
			if _, err := s.AppendMessage(t.Context(), msgs[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var seqs, changeSeqs []int64
	for _, m := range msgs {
		seqs, changeSeqs = append(seqs, m.Seq), append(changeSeqs, m.ChangeSeq)
	}
	slices.Sort(seqs)
	slices.Sort(changeSeqs)
	for i := range n {
		if seqs[i] != int64(i+1) || changeSeqs[i] != int64(i+1) {
			t.Fatalf("seqs %v, ChangeSeqs %v; want 1..%d each", seqs, changeSeqs, n)
		}
	}
	conv, err := s.GetConversation(t.Context(), "c2")
	if err != nil || conv.Member("u2").UnreadMentions != n || conv.Member(userID).UnreadMentions != 0 {
		t.Fatalf("conversation %+v, %v; want %d unread mentions for bo, none for the author", conv, err, n)
	}
}

// A reply sent again with its client token after its root was deleted is
// answered with the stored reply, not refused; a member named twice in
// mentions counts one unread mention.
func TestAppendMessage_ReplyRetryAfterRootDeleted(t *testing.T) {
	s := open(t)
	userID, _ := seed(t, s)
	cy := confab.User{UserID: "u9", Username: "cy", Email: "cy@example.com", CreatedAt: t0}
	if err := s.InsertAccount(t.Context(), &confab.Account{User: cy, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	convID := "c9"
	if err := s.InsertConversation(t.Context(), &confab.Conversation{ConversationID: convID, CreatedBy: userID, CreatedAt: t0,
		Members: []confab.Member{{UserID: userID, JoinedAt: t0}, {UserID: cy.UserID, JoinedAt: t0}}}); err != nil {
		t.Fatal(err)
	}
	root := send(t, s, userID, convID, "root", t0.Add(time.Second))
	reply := func() *confab.Message {
		return &confab.Message{MessageID: "r1", ConversationID: convID, UserID: userID, Content: "re", MessageType: confab.MessageText,
			CreatedAt: t0.Add(2 * time.Second), ParentMessageID: root.MessageID, ClientToken: "tok", Mentions: []string{cy.UserID, cy.UserID}}
	}
	first := reply()
	if created, err := s.AppendMessage(t.Context(), first); err != nil || !created {
		t.Fatalf("reply = %v, %v", created, err)
	}
	if c, err := s.GetConversation(t.Context(), convID); err != nil || c.Member(cy.UserID).UnreadMentions != 1 {
		t.Fatalf("conversation %+v, %v; want one unread mention for cy", c, err)
	}
	if _, _, err := s.DeleteMessage(t.Context(), convID, root.MessageID, "", t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	again := reply()
	created, err := s.AppendMessage(t.Context(), again)
	if err != nil || created || again.Seq != first.Seq || again.ChangeSeq != first.ChangeSeq {
		t.Fatalf("retry = created %v, %v, seq %d ChangeSeq %d; want the stored reply (seq %d, ChangeSeq %d)",
			created, err, again.Seq, again.ChangeSeq, first.Seq, first.ChangeSeq)
	}
	other := reply()
	other.MessageID, other.ClientToken = "r2", "tok2"
	if _, err := s.AppendMessage(t.Context(), other); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Fatalf("a new reply to the deleted root = %v, want %s", err, confab.CodeNotFound)
	}
}

// Retention leaves nothing of a purged message in the confab table: its
// changes (MESSAGE_SENT included), edits, reactions and references go;
// the young message's stay.
func TestPurgeMessages_LeavesNoItems(t *testing.T) {
	prefix := freshPrefix(t)
	s := openPrefix(t, prefix)
	userID, convID := seed(t, s)
	old := send(t, s, userID, convID, "old", t0.Add(time.Hour))
	young := send(t, s, userID, convID, "young", t0.Add(3*time.Hour))
	if _, err := s.EditMessage(t.Context(), convID, old.MessageID, "edited", t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*confab.Message{old, young} {
		r := &confab.Reaction{ConversationID: convID, MessageID: m.MessageID, UserID: userID, Key: "x", At: t0.Add(4 * time.Hour)}
		if _, _, err := s.AddReaction(t.Context(), r, confab.DefaultMaxReactionKeys); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeMessages(t.Context(), t0.Add(2*time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("PurgeMessages = %d, %v; want 1", n, err)
	}
	out, err := rawClient(t).Scan(t.Context(), &ddb.ScanInput{TableName: aws.String(prefix + "confab"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, it := range out.Items {
		pk := it["pk"].(*types.AttributeValueMemberS).Value
		sk := it["sk"].(*types.AttributeValueMemberS).Value
		if strings.HasPrefix(pk, "chg#") || strings.HasPrefix(pk, "msg#") {
			left = append(left, strings.ReplaceAll(pk+" "+sk, "\x00", "/"))
		}
	}
	slices.Sort(left)
	want := []string{ // young's send (2) and reaction (5), with the reaction's reference and item
		"chg#c1 00000000000000000002",
		"chg#c1 00000000000000000005",
		"msg#c1/young chg#00000000000000000005",
		"msg#c1/young react#x/u1",
	}
	if !slices.Equal(left, want) {
		t.Fatalf("change and message items after the purge:\n%s\nwant:\n%s", strings.Join(left, "\n"), strings.Join(want, "\n"))
	}
}
