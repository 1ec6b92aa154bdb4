package dynamodb_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
	"github.com/confab-chat/confab/store/storetest"
)

const region = "us-east-1"

// endpoint returns CONFAB_TEST_DYNAMODB. When it is unset the test is
// skipped, or fails when CONFAB_TEST_REQUIRE is "all" or a list naming
// dynamodb, as CI sets it.
func endpoint(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CONFAB_TEST_DYNAMODB")
	if u != "" {
		return u
	}
	const msg = "CONFAB_TEST_DYNAMODB is unset: start DynamoDB Local with store/dynamodb/testdata/start-dynamodb.sh and export the URL it prints"
	for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if name == "all" || name == "dynamodb" {
			t.Fatal(msg + " (CONFAB_TEST_REQUIRE asks for dynamodb)")
		}
	}
	t.Skip(msg)
	return ""
}

// freshPrefix returns a table prefix no other test uses, and deletes its
// tables when the test ends.
func freshPrefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "test-" + hex.EncodeToString(b) + "-"
	t.Cleanup(func() { dropTables(t, prefix) })
	return prefix
}

func rawClient(t testing.TB) *ddb.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	return ddb.NewFromConfig(cfg, func(o *ddb.Options) { o.BaseEndpoint = aws.String(endpoint(t)) })
}

func dropTables(t testing.TB, prefix string) {
	c := rawClient(t)
	for _, name := range []string{"messages", "conversations", "users", "confab"} {
		_, err := c.DeleteTable(context.Background(), &ddb.DeleteTableInput{TableName: aws.String(prefix + name)})
		var gone *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &gone) {
			t.Logf("delete table %s%s: %v", prefix, name, err)
		}
	}
}

func openPrefix(t *testing.T, prefix string) *dynamodb.Store {
	t.Helper()
	s, err := dynamodb.Open(t.Context(), dynamodb.Config{Region: region, Endpoint: endpoint(t), TablePrefix: prefix, CreateTables: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func open(t *testing.T) *dynamodb.Store {
	t.Helper()
	return openPrefix(t, freshPrefix(t))
}

func TestStore_Contract(t *testing.T) {
	endpoint(t)
	storetest.Run(t, func(t *testing.T) confab.Store { return open(t) })
}

func TestStore_UploadContract(t *testing.T) {
	endpoint(t)
	storetest.RunUploads(t, func(t *testing.T) confab.Store { return open(t) })
}

var t0 = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

// seed inserts a user and a conversation of theirs into s.
func seed(t *testing.T, s confab.Store) (userID, conversationID string) {
	t.Helper()
	u := confab.User{UserID: "u1", Username: "ann", Email: "ann@example.com", CreatedAt: t0}
	if err := s.InsertAccount(t.Context(), &confab.Account{User: u, PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	c := &confab.Conversation{ConversationID: "c1", CreatedBy: "u1", CreatedAt: t0, Members: []confab.Member{{UserID: "u1", JoinedAt: t0}}}
	if err := s.InsertConversation(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return "u1", "c1"
}

func send(t *testing.T, s confab.Store, userID, conversationID, id string, at time.Time) *confab.Message {
	t.Helper()
	m := &confab.Message{MessageID: id, ConversationID: conversationID, UserID: userID, Content: "hello " + id,
		MessageType: confab.MessageText, CreatedAt: at}
	if _, err := s.AppendMessage(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func seqsOf(msgs []*confab.Message) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}

// Two stores on the same tables are two nodes: their appends to one
// conversation race on the lastSeq condition, and the loser retries, so
// seqs stay gapless and the count exact.
func TestAppendMessage_TwoNodesGapless(t *testing.T) {
	prefix := freshPrefix(t)
	nodes := []*dynamodb.Store{openPrefix(t, prefix), openPrefix(t, prefix)}
	userID, convID := seed(t, nodes[0])
	const senders, each = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*senders*each)
	for n, s := range nodes {
		for w := range senders {
			wg.Go(func() {
				for i := range each {
					m := &confab.Message{MessageID: fmt.Sprintf("m-%d-%d-%d", n, w, i), ConversationID: convID, UserID: userID,
						Content: "x", MessageType: confab.MessageText, CreatedAt: t0.Add(time.Second)}
					if _, err := s.AppendMessage(t.Context(), m); err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = 2 * senders * each
	msgs, err := nodes[1].ListMessagesAfter(t.Context(), convID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("seqs %v are not 1..%d", seqsOf(msgs), total)
		}
	}
	c, err := nodes[0].GetConversation(t.Context(), convID)
	if err != nil || len(msgs) != total || c.LastSeq != total || c.MessageCount != total {
		t.Fatalf("%d messages, LastSeq %d, MessageCount %d, %v; want %d each", len(msgs), c.LastSeq, c.MessageCount, err, total)
	}
}

// A resume must not skip a seq the index has not caught up with: with
// seq 2 missing (its item removed behind the store's back, as index lag
// would show it), ListMessagesAfter stops before it. A seq a purge
// removed is skipped instead.
func TestListMessagesAfter_StopsAtMissingSeq(t *testing.T) {
	prefix := freshPrefix(t)
	s := openPrefix(t, prefix)
	userID, convID := seed(t, s)
	var ms []*confab.Message
	for i := range 3 {
		ms = append(ms, send(t, s, userID, convID, fmt.Sprint("m", i), t0.Add(time.Duration(i+1)*time.Hour)))
	}
	_, err := rawClient(t).DeleteItem(t.Context(), &ddb.DeleteItemInput{TableName: aws.String(prefix + "messages"),
		Key: map[string]types.AttributeValue{"conversationId": &types.AttributeValueMemberS{Value: convID},
			"messageId": &types.AttributeValueMemberS{Value: ms[1].MessageID}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ListMessagesAfter(t.Context(), convID, 0, 10)
	if err != nil || !slices.Equal(seqsOf(got), []int64{1}) {
		t.Fatalf("ListMessagesAfter(0) = %v, %v; want [1] (stop before the missing seq 2)", seqsOf(got), err)
	}
	if n, err := s.PurgeMessages(t.Context(), t0.Add(90*time.Minute), 10); err != nil || n != 1 {
		t.Fatalf("PurgeMessages = %d, %v; want seq 1 purged", n, err)
	}
	// purgedSeq is now 1; seq 2 is still missing without a purge.
	if got, err := s.ListMessagesAfter(t.Context(), convID, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("ListMessagesAfter(0) = %v, %v; want none (seq 1 purged, seq 2 missing)", seqsOf(got), err)
	}
}

// Purge walks the age index day by day from its floor: messages days
// apart go oldest first, a batch at a time, and a later purge still finds
// messages older than the floor's day was when it was last raised.
func TestPurgeMessages_AcrossDays(t *testing.T) {
	s := open(t)
	userID, convID := seed(t, s)
	for i, days := range []int{9, 2, 5, 0} {
		send(t, s, userID, convID, fmt.Sprint("m", i), t0.AddDate(0, 0, -days))
	}
	var order []string
	for {
		before, _ := s.ListMessagesAfter(t.Context(), convID, 0, 10)
		n, err := s.PurgeMessages(t.Context(), t0.Add(-time.Hour), 1)
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.ListMessagesAfter(t.Context(), convID, 0, 10)
		if n == 0 {
			break
		}
		for _, m := range before {
			if !slices.ContainsFunc(after, func(a *confab.Message) bool { return a.MessageID == m.MessageID }) {
				order = append(order, m.MessageID)
			}
		}
	}
	if want := []string{"m0", "m2", "m1"}; !slices.Equal(order, want) {
		t.Fatalf("purged %v, want %v (oldest first; today's m3 kept)", order, want)
	}
	if _, err := s.GetMessage(t.Context(), convID, "m3"); err != nil {
		t.Fatalf("m3: %v", err)
	}
}

// Items the recipe's resolvers wrote are read in place: a conversation
// with no lastSeq and a message with no seq, with second-precision ISO
// times. The next append numbers from 1.
func TestRecipeItems(t *testing.T) {
	prefix := freshPrefix(t)
	s := openPrefix(t, prefix)
	c := rawClient(t)
	put := func(table string, it map[string]types.AttributeValue) {
		t.Helper()
		if _, err := c.PutItem(t.Context(), &ddb.PutItemInput{TableName: aws.String(prefix + table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	put("users", map[string]types.AttributeValue{"userId": str("sub-1"), "username": str("ann"), "email": str("ann@example.com"),
		"isOnline": &types.AttributeValueMemberBOOL{Value: true}, "lastSeen": str("2026-11-25T06:00:00Z")})
	put("conversations", map[string]types.AttributeValue{"conversationId": str("conv-1"), "name": str("team"),
		"participants": &types.AttributeValueMemberL{Value: []types.AttributeValue{str("sub-1")}},
		"createdBy":    str("sub-1"), "createdAt": str("2026-11-25T06:00:00Z"), "updatedAt": str("2026-11-25T06:00:00Z"),
		"messageCount": &types.AttributeValueMemberN{Value: "0"}})
	put("messages", map[string]types.AttributeValue{"conversationId": str("conv-1"), "messageId": str("auto-1"),
		"userId": str("sub-1"), "content": str("from the recipe"), "messageType": str("TEXT"),
		"createdAt": str("2026-11-25T06:01:02.345Z"), "updatedAt": str("2026-11-25T06:01:02.345Z")})

	m, err := s.GetMessage(t.Context(), "conv-1", "auto-1")
	if err != nil || m.Content != "from the recipe" || m.Seq != 0 || !m.CreatedAt.Equal(time.Date(2026, 11, 25, 6, 1, 2, 345e6, time.UTC)) {
		t.Fatalf("GetMessage = %+v, %v", m, err)
	}
	u, err := s.GetUser(t.Context(), "sub-1")
	if err != nil || !u.IsOnline || u.LastSeen == nil || !u.LastSeen.Equal(t0) {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	conv, err := s.GetConversation(t.Context(), "conv-1")
	if err != nil || conv.Name == nil || *conv.Name != "team" || conv.LastSeq != 0 || !conv.CreatedAt.Equal(t0) {
		t.Fatalf("GetConversation = %+v, %v", conv, err)
	}
	next := send(t, s, "sub-1", "conv-1", "new-1", t0.Add(time.Hour))
	conv, err = s.GetConversation(t.Context(), "conv-1")
	if err != nil || next.Seq != 1 || conv.LastSeq != 1 || conv.MessageCount != 1 {
		t.Fatalf("after an append: seq %d, conversation %+v, %v; want seq 1, LastSeq 1, MessageCount 1", next.Seq, conv, err)
	}
	// The change log starts at 1 on a conversation written before it, and
	// a recipe message can be edited and reacted to like any other.
	edited, err := s.EditMessage(t.Context(), "conv-1", "auto-1", "edited", t0.Add(2*time.Hour))
	if err != nil || next.ChangeSeq != 1 || edited.ChangeSeq != 2 || edited.Content != "edited" {
		t.Fatalf("send ChangeSeq %d, edit = %+v, %v; want 1, then 2 with the new content", next.ChangeSeq, edited, err)
	}
	r := &confab.Reaction{ConversationID: "conv-1", MessageID: "auto-1", UserID: "sub-1", Key: "x", At: t0.Add(3 * time.Hour)}
	if added, m, err := s.AddReaction(t.Context(), r, confab.DefaultMaxReactionKeys); err != nil || !added || m.ChangeSeq != 3 {
		t.Fatalf("AddReaction on a recipe message = %v, %+v, %v; want added, ChangeSeq 3", added, m, err)
	}
	if chs, err := s.ListChanges(t.Context(), "conv-1", 0, 10); err != nil || len(chs) != 3 || chs[2].Message.Content != "edited" {
		t.Fatalf("ListChanges = %d changes, %v; want 3", len(chs), err)
	}
}

// Nothing surfaces a raw AWS error: an unreachable endpoint is
// CodeUnavailable once the retries run out, and so is a table that was
// deleted under a running store.
func TestErrors_Unavailable(t *testing.T) {
	endpoint(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	_, err = dynamodb.Open(t.Context(), dynamodb.Config{Region: region, Endpoint: closed, CreateTables: true, RetryWithin: 100 * time.Millisecond})
	if code := confab.ErrorCode(err); code != confab.CodeUnavailable {
		t.Fatalf("Open on a closed port: code %q (%v), want %q", code, err, confab.CodeUnavailable)
	}

	prefix := freshPrefix(t)
	s := openPrefix(t, prefix)
	dropTables(t, prefix)
	_, err = s.GetUser(t.Context(), "u1")
	if code := confab.ErrorCode(err); code != confab.CodeUnavailable {
		t.Fatalf("GetUser with the table gone: code %q (%v), want %q", code, err, confab.CodeUnavailable)
	}
	if err := s.Ping(t.Context()); confab.ErrorCode(err) != confab.CodeUnavailable {
		t.Fatalf("Ping with the table gone = %v, want %q", err, confab.CodeUnavailable)
	}
}

// Concurrent appends to one conversation are committed in batches: sends
// that reuse a client token (also inside one batch) get the stored
// message, every other send a new seq, gapless.
func TestAppendMessage_GroupCommitDuplicates(t *testing.T) {
	s := open(t)
	userID, convID := seed(t, s)
	const n, tokens = 60, 6
	var wg sync.WaitGroup
	msgs := make([]*confab.Message, n)
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		msgs[i] = &confab.Message{MessageID: fmt.Sprint("m", i), ConversationID: convID, UserID: userID, Content: fmt.Sprint("x", i),
			MessageType: confab.MessageText, CreatedAt: t0.Add(time.Second)}
		if i%2 == 0 {
			msgs[i].ClientToken = fmt.Sprint("tok", i/2%tokens)
		}
		wg.Go(func() { created[i], errs[i] = s.AppendMessage(t.Context(), msgs[i]) })
	}
	wg.Wait()
	bySeq := map[int64]string{}
	byToken := map[string]int64{}
	for i, m := range msgs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if m.ClientToken != "" {
			if seq, ok := byToken[m.ClientToken]; ok && seq != m.Seq {
				t.Fatalf("token %s answered with seqs %d and %d", m.ClientToken, seq, m.Seq)
			}
			byToken[m.ClientToken] = m.Seq
		}
		if created[i] {
			if other, dup := bySeq[m.Seq]; dup {
				t.Fatalf("seq %d given to %s and %s", m.Seq, other, m.MessageID)
			}
			bySeq[m.Seq] = m.MessageID
		}
	}
	const want = n/2 + tokens // the untokened half, and one per token
	if len(bySeq) != want {
		t.Fatalf("%d created, want %d", len(bySeq), want)
	}
	for seq := int64(1); seq <= want; seq++ {
		if _, ok := bySeq[seq]; !ok {
			t.Fatalf("seq %d missing of 1..%d", seq, want)
		}
	}
	c, err := s.GetConversation(t.Context(), convID)
	if err != nil || c.LastSeq != want || c.MessageCount != want {
		t.Fatalf("conversation %+v, %v; want LastSeq and MessageCount %d", c, err, want)
	}
}

// A recipe deployment's messages table, made as the recipe's create-table
// makes it (provisioned, MessagesByTime only), gets confab's indexes added
// in place at Open; without table creation, Open refuses missing tables.
func TestOpen_RecipeTableGetsIndexes(t *testing.T) {
	prefix := freshPrefix(t)
	_, err := dynamodb.Open(t.Context(), dynamodb.Config{Region: region, Endpoint: endpoint(t), TablePrefix: prefix})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open without table creation on an empty account = %v, want a missing-table error", err)
	}
	c := rawClient(t)
	s := func(v string) *string { return &v }
	_, err = c.CreateTable(t.Context(), &ddb.CreateTableInput{
		TableName: s(prefix + "messages"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: s("conversationId"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("messageId"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: s("createdAt"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: s("conversationId"), KeyType: types.KeyTypeHash}, {AttributeName: s("messageId"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: s("MessagesByTime"),
			KeySchema:             []types.KeySchemaElement{{AttributeName: s("conversationId"), KeyType: types.KeyTypeHash}, {AttributeName: s("createdAt"), KeyType: types.KeyTypeRange}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := openPrefix(t, prefix)
	out, err := c.DescribeTable(t.Context(), &ddb.DescribeTableInput{TableName: s(prefix + "messages")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range out.Table.GlobalSecondaryIndexes {
		names = append(names, aws.ToString(g.IndexName))
	}
	slices.Sort(names)
	if want := []string{"MessagesByAge", "MessagesBySeq", "MessagesByTime", "MessagesByUser"}; !slices.Equal(names, want) {
		t.Fatalf("indexes %v, want %v", names, want)
	}
	userID, convID := seed(t, st)
	send(t, st, userID, convID, "m1", t0)
	if msgs, err := st.ListMessages(t.Context(), convID, 0, 10); err != nil || len(msgs) != 1 {
		t.Fatalf("ListMessages on the recipe table = %d, %v; want 1", len(msgs), err)
	}
}

// DeleteMessage recomputes the preview from the eventually consistent seq
// index; while the index lacks the conversation's lastSeq (here: its item
// removed behind the store's back, as index lag would show it), it does
// not write a preview that is not the newest: it retries, then reports
// CodeUnavailable, and changes nothing.
func TestDeleteMessage_WaitsForIndex(t *testing.T) {
	prefix := freshPrefix(t)
	openPrefix(t, prefix) // creates the tables
	s, err := dynamodb.Open(t.Context(), dynamodb.Config{Region: region, Endpoint: endpoint(t), TablePrefix: prefix, RetryWithin: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	userID, convID := seed(t, s)
	old := send(t, s, userID, convID, "m1", t0)
	send(t, s, userID, convID, "m2", t0.Add(time.Second))
	_, err = rawClient(t).DeleteItem(t.Context(), &ddb.DeleteItemInput{TableName: aws.String(prefix + "messages"),
		Key: map[string]types.AttributeValue{"conversationId": &types.AttributeValueMemberS{Value: convID},
			"messageId": &types.AttributeValueMemberS{Value: "m2"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.DeleteMessage(t.Context(), convID, old.MessageID, "", t0.Add(time.Minute))
	if code := confab.ErrorCode(err); code != confab.CodeUnavailable {
		t.Fatalf("DeleteMessage while the index lags = %v (%q), want %q", err, code, confab.CodeUnavailable)
	}
	if m, err := s.GetMessage(t.Context(), convID, old.MessageID); err != nil || m.Deleted {
		t.Fatalf("GetMessage after the refused delete = %+v, %v; want it live", m, err)
	}
}
