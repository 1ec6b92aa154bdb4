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

// users inserts n accounts u-<i> and returns their ids.
func users(t *testing.T, s confab.Store, prefix string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		u := confab.User{UserID: id, Username: id, Email: id + "@example.com", CreatedAt: t0}
		if err := s.InsertAccount(t.Context(), &confab.Account{User: u, PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// Slow mode rides on group commit: sends of many authors at once share
// batches, and of one author's concurrent sends exactly one passes (each
// of an author's sends is checked against the one before it, never in
// the same batch); the refused ones write nothing.
func TestAppendMessage_SlowModeUnderGroupCommit(t *testing.T) {
	s := open(t)
	owner, convID := seed(t, s)
	authors := users(t, s, "a", 5)
	var ms []confab.Member
	for _, id := range authors {
		ms = append(ms, confab.Member{UserID: id, JoinedAt: t0})
	}
	if _, _, err := s.AddMembers(t.Context(), convID, owner, ms, confab.MaxMembers, t0); err != nil {
		t.Fatal(err)
	}
	const tries = 4
	var wg sync.WaitGroup
	accepted := make([]int, len(authors))
	var mu sync.Mutex
	for i, uid := range authors {
		for k := range tries {
			wg.Go(func() {
				m := &confab.Message{MessageID: fmt.Sprintf("m-%s-%d", uid, k), ConversationID: convID, UserID: uid, Content: "x",
					MessageType: confab.MessageText, CreatedAt: t0.Add(time.Second), SlowMode: time.Minute}
				_, err := s.AppendMessage(t.Context(), m)
				switch confab.ErrorCode(err) {
				case "":
					mu.Lock()
					accepted[i]++
					mu.Unlock()
				case confab.CodeLimited:
				default:
					t.Errorf("send: %v", err)
				}
			})
		}
	}
	wg.Wait()
	for i, n := range accepted {
		if n != 1 {
			t.Fatalf("%s: %d of %d sends at once accepted in slow mode, want 1", authors[i], n, tries)
		}
	}
	c, err := s.GetConversation(t.Context(), convID)
	if err != nil || c.LastSeq != int64(len(authors)) || c.MessageCount != len(authors) {
		t.Fatalf("conversation %+v, %v; want %d messages (refused ones wrote nothing)", c, err, len(authors))
	}
	for _, m := range c.Members {
		if m.UserID == owner {
			continue
		}
		if m.LastPostedAt == nil || !m.LastPostedAt.Equal(t0.Add(time.Second)) {
			t.Fatalf("%s LastPostedAt %v, want %v", m.UserID, m.LastPostedAt, t0.Add(time.Second))
		}
	}
}

// More members than one transaction holds are added in several, each
// with its changes: all are added, the change log stays gapless.
func TestAddMembers_BeyondOneTransaction(t *testing.T) {
	s := open(t)
	owner, convID := seed(t, s)
	ids := users(t, s, "m", 60)
	var ms []confab.Member
	for _, id := range ids {
		ms = append(ms, confab.Member{UserID: id, Role: confab.RoleMember, JoinedAt: t0.Add(time.Second)})
	}
	added, c, err := s.AddMembers(t.Context(), convID, owner, ms, confab.MaxMembers, t0.Add(time.Second))
	if err != nil || len(added) != len(ids) || len(c.Members) != len(ids)+1 || c.LastChangeSeq != int64(len(ids)) {
		t.Fatalf("AddMembers of %d = %d added, conversation %d members LastChangeSeq %d, %v", len(ids), len(added), len(c.Members), c.LastChangeSeq, err)
	}
	chs, err := s.ListChanges(t.Context(), convID, 0, 100)
	if err != nil || len(chs) != len(ids) {
		t.Fatalf("ListChanges = %d, %v; want %d", len(chs), err, len(ids))
	}
	for i, ch := range chs {
		if ch.ChangeSeq != int64(i+1) || ch.Kind != confab.ChangeMemberAdded || ch.MemberID != ids[i] {
			t.Fatalf("change %d = %d %s %s, want %d MEMBER_ADDED %s", i, ch.ChangeSeq, ch.Kind, ch.MemberID, i+1, ids[i])
		}
	}
	// The limit counts the members of every transaction to come: refused
	// before the first.
	more := users(t, s, "x", 2)
	_, _, err = s.AddMembers(t.Context(), convID, owner, []confab.Member{{UserID: more[0], JoinedAt: t0}, {UserID: more[1], JoinedAt: t0}},
		len(ids)+2, t0.Add(2*time.Second))
	if confab.ErrorCode(err) != confab.CodeLimited {
		t.Fatalf("AddMembers over the limit = %v, want %q", err, confab.CodeLimited)
	}
}

// A removed member's thread read marks go with them, also more than one
// transaction holds.
func TestRemoveMember_ManyThreadMarks(t *testing.T) {
	prefix := freshPrefix(t)
	s := openPrefix(t, prefix)
	owner, convID := seed(t, s)
	bo := users(t, s, "bo", 1)[0]
	if _, _, err := s.AddMembers(t.Context(), convID, owner, []confab.Member{{UserID: bo, JoinedAt: t0}}, confab.MaxMembers, t0); err != nil {
		t.Fatal(err)
	}
	raw := rawClient(t)
	const marks = 130
	for i := range marks { // marks of roots that need not exist: only the items matter here
		_, err := raw.PutItem(t.Context(), &ddb.PutItemInput{TableName: aws.String(prefix + "confab"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "user#" + bo}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("thread#%s\x00r-%03d", convID, i)},
			"seq": &types.AttributeValueMemberN{Value: "1"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RemoveMember(t.Context(), convID, bo, owner, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	out, err := raw.Query(t.Context(), &ddb.QueryInput{TableName: aws.String(prefix + "confab"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "user#" + bo}}})
	if err != nil || len(out.Items) != 0 {
		t.Fatalf("bo's partition after removal holds %d items, %v; want none", len(out.Items), err)
	}
}

// A conversation being deleted is gone for every node at once: another
// node, whose counters are cached, cannot append to it, and a deletion
// cut short (the conversation marked, partly deleted) is finished by
// calling DeleteConversation again.
func TestDeleteConversation_MarkedFirstAndRetryable(t *testing.T) {
	prefix := freshPrefix(t)
	a, b := openPrefix(t, prefix), openPrefix(t, prefix)
	userID, convID := seed(t, a)
	send(t, a, userID, convID, "m1", t0.Add(time.Second)) // a caches the counters
	raw := rawClient(t)
	// A deletion that stopped after marking the conversation.
	_, err := raw.UpdateItem(t.Context(), &ddb.UpdateItemInput{TableName: aws.String(prefix + "conversations"),
		Key:              map[string]types.AttributeValue{"conversationId": &types.AttributeValueMemberS{Value: convID}},
		UpdateExpression: aws.String("SET deleting = :t"), ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}})
	if err != nil {
		t.Fatal(err)
	}
	m := &confab.Message{MessageID: "m2", ConversationID: convID, UserID: userID, Content: "x", MessageType: confab.MessageText, CreatedAt: t0.Add(2 * time.Second)}
	if _, err := a.AppendMessage(t.Context(), m); confab.ErrorCode(err) != confab.CodeNotFound {
		t.Fatalf("append to a conversation being deleted = %v, want %q", err, confab.CodeNotFound)
	}
	for _, s := range []*dynamodb.Store{a, b} {
		if _, err := s.GetConversation(t.Context(), convID); confab.ErrorCode(err) != confab.CodeNotFound {
			t.Fatalf("GetConversation of a conversation being deleted = %v, want %q", err, confab.CodeNotFound)
		}
		if list, err := s.ListConversations(t.Context(), userID, confab.ConversationPage{Limit: 10}); err != nil || len(list) != 0 {
			t.Fatalf("ListConversations = %d, %v; want none", len(list), err)
		}
	}
	if all, err := b.ListAllConversations(t.Context(), "", 10); err != nil || len(all) != 0 {
		t.Fatalf("ListAllConversations = %d, %v; want none", len(all), err)
	}
	if _, err := b.DeleteConversation(t.Context(), convID); err != nil {
		t.Fatalf("DeleteConversation finishing a cut-short one: %v", err)
	}
	for _, table := range []string{"conversations", "messages"} {
		out, err := raw.Scan(t.Context(), &ddb.ScanInput{TableName: aws.String(prefix + table)})
		if err != nil || len(out.Items) != 0 {
			t.Fatalf("%s after the deletion: %d items, %v; want none", table, len(out.Items), err)
		}
	}
	out, err := raw.Scan(t.Context(), &ddb.ScanInput{TableName: aws.String(prefix + "confab")})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, it := range out.Items {
		// The outbox's entries are the changes' events, which the
		// outbox worker delivers and purges, not the conversation's data.
		if pk := it["pk"].(*types.AttributeValueMemberS).Value; !strings.HasPrefix(pk, "outbox") {
			left = append(left, pk)
		}
	}
	slices.Sort(left)
	if want := []string{"email#ann@example.com", "username#ann"}; !slices.Equal(left, want) {
		t.Fatalf("confab table after the deletion holds %q, want only the account's markers %q", left, want)
	}
}

// The member limit holds across nodes: adds racing on two nodes each
// count the members the others committed (the counters' condition makes
// a loser read again), so exactly as many get in as the limit leaves.
func TestAddMembers_LimitAcrossNodes(t *testing.T) {
	prefix := freshPrefix(t)
	nodes := []*dynamodb.Store{openPrefix(t, prefix), openPrefix(t, prefix)}
	owner, convID := seed(t, nodes[0])
	ids := users(t, nodes[0], "r", 8)
	const limit = 5 // the owner and four more
	var wg sync.WaitGroup
	codes := make([]confab.Code, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			_, _, err := nodes[i%2].AddMembers(t.Context(), convID, owner, []confab.Member{{UserID: id, JoinedAt: t0}}, limit, t0.Add(time.Second))
			codes[i] = confab.ErrorCode(err)
		})
	}
	wg.Wait()
	in := 0
	for i, code := range codes {
		switch code {
		case "":
			in++
		case confab.CodeLimited:
		default:
			t.Fatalf("AddMembers of %s: code %q", ids[i], code)
		}
	}
	c, err := nodes[1].GetConversation(t.Context(), convID)
	if err != nil || in != limit-1 || len(c.Members) != limit || c.LastChangeSeq != limit-1 {
		t.Fatalf("%d adds succeeded, conversation has %d members, LastChangeSeq %d, %v; want %d, %d, %d", in, len(c.Members), c.LastChangeSeq, err, limit-1, limit, limit-1)
	}
}
