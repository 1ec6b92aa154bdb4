package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/store/dynamodb"
	"github.com/confab-chat/confab/store/dynamodb/recipe"
	"github.com/confab-chat/confab/store/dynamodb/recipe/recipetest"
	"github.com/confab-chat/confab/store/postgres"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// TestMain_MigrateToPostgres fills an embedded deployment, migrates it into
// PostgreSQL, and serves it from there: the same password signs in, seqs,
// deletions, read marks and the conversation summary carried over.
func TestMain_MigrateToPostgres(t *testing.T) {
	pg := postgresURL(t)
	a := runMain(t)
	alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	var ids []string
	for i := range 5 {
		m := a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("message ", i+1)})["sendMessage"].(map[string]any)
		ids = append(ids, m["messageId"].(string))
	}
	a.mustGQL(t, alice.idToken, `mutation($c:ID!,$m:ID!){ deleteMessage(conversationId:$c, messageId:$m){ messageId } }`, map[string]any{"c": cid, "m": ids[1]})
	a.mustGQL(t, bob.idToken, `mutation($c:ID!){ markConversationRead(conversationId:$c, seq:3){ lastSeq } }`, map[string]any{"c": cid})

	// The conversation features of #12: a thread whose root is deleted
	// after its replies, a message edited twice, reactions and mentions.
	// The second conversation stays out of the read-mark figures above.
	cid2 := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	feature := func(who string, q string, vars map[string]any) map[string]any {
		return a.mustGQL(t, who, q, vars)
	}
	root := feature(alice.idToken, sendMsg, map[string]any{"c": cid2, "t": "root"})["sendMessage"].(map[string]any)["messageId"].(string)
	const reply = `mutation($c:ID!,$p:ID!,$t:String!,$m:[ID!]){ sendMessage(input:{conversationId:$c, content:$t, parentMessageId:$p, mentions:$m}){ messageId } }`
	feature(bob.idToken, reply, map[string]any{"c": cid2, "p": root, "t": "reply one", "m": []string{alice.userID}})
	edited := feature(bob.idToken, reply, map[string]any{"c": cid2, "p": root, "t": "reply v1", "m": nil})["sendMessage"].(map[string]any)["messageId"].(string)
	const edit = `mutation($c:ID!,$m:ID!,$t:String!){ editMessage(conversationId:$c, messageId:$m, content:$t){ messageId } }`
	feature(bob.idToken, edit, map[string]any{"c": cid2, "m": edited, "t": "reply v2"})
	feature(bob.idToken, edit, map[string]any{"c": cid2, "m": edited, "t": "reply v3"})
	const react = `mutation($c:ID!,$m:ID!,$k:String!){ addReaction(conversationId:$c, messageId:$m, key:$k){ messageId } }`
	feature(alice.idToken, react, map[string]any{"c": cid2, "m": edited, "k": "👍"})
	feature(bob.idToken, react, map[string]any{"c": cid2, "m": edited, "k": "👍"})
	feature(bob.idToken, react, map[string]any{"c": cid2, "m": edited, "k": ":tada:"})
	feature(alice.idToken, `mutation($c:ID!,$m:ID!){ deleteMessage(conversationId:$c, messageId:$m){ messageId } }`, map[string]any{"c": cid2, "m": root})
	const thread = `query($c:ID!,$p:ID!){ listThread(conversationId:$c, parentMessageId:$p){ items { seq content mentions editedAt edits { content } reactions { key count userIds } } } }`
	wantThread := fmt.Sprint(a.mustGQL(t, bob.idToken, thread, map[string]any{"c": cid2, "p": root}))

	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := m.Run(context.Background(), []string{"migrate", "--data", a.data, "--postgres", pg}); err != nil {
		t.Fatal(err)
	}

	b := runMain(t, "--store", "postgres", "--postgres", pg, "--key-file", filepath.Join(a.data, "jwt-signing-key.pem"))
	status, body := b.postJSON(t, "/auth/login", map[string]string{"email": bob.email, "password": "Passw0rd!x"}, nil)
	if status != 200 {
		t.Fatalf("login on the migrated store: %d %v", status, body)
	}
	token := body["idToken"].(string)
	page := b.mustGQL(t, token, `query($c:ID!){ listMessages(conversationId:$c){ items { seq content } } }`, map[string]any{"c": cid})["listMessages"].(map[string]any)["items"].([]any)
	var seqs []float64
	for _, it := range page {
		seqs = append(seqs, it.(map[string]any)["seq"].(float64))
	}
	if fmt.Sprint(seqs) != "[5 4 3 1]" {
		t.Fatalf("migrated messages: seqs %v, want [5 4 3 1] (2 was deleted)", seqs)
	}
	conv := b.mustGQL(t, token, `query($c:ID!){ getConversation(conversationId:$c){ lastSeq messageCount lastMessage unreadCount } }`, map[string]any{"c": cid})["getConversation"].(map[string]any)
	if conv["lastSeq"].(float64) != 5 || conv["messageCount"].(float64) != 4 || conv["lastMessage"] != "message 5" || conv["unreadCount"].(float64) != 2 {
		t.Fatalf("migrated summary: %v", conv)
	}
	if got := fmt.Sprint(b.mustGQL(t, token, thread, map[string]any{"c": cid2, "p": root})); got != wantThread {
		t.Fatalf("migrated thread:\n got %s\nwant %s", got, wantThread)
	}
	if !strings.Contains(wantThread, "reply v1") || !strings.Contains(wantThread, ":tada:") || !strings.Contains(wantThread, alice.userID) {
		t.Fatalf("the thread before migrating lacks its edits, reactions or mentions: %s", wantThread)
	}
	// The old tokens work too: same key file and issuer.
	b.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "after the migration"})
}

// TestCopyStore_Membership copies the fields of issue #15 from SQLite into
// PostgreSQL: a direct pair with roles, a mute, settings and an archive,
// an admin with an add policy, and a message a moderator deleted.
func TestCopyStore_Membership(t *testing.T) {
	ctx := context.Background()
	pg := postgresURL(t)
	src, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, id := range []string{"ann", "bo"} {
		u := confab.User{UserID: id, Username: id, Email: id + "@example.com", CreatedAt: now, Admin: id == "ann", AddPolicy: confab.AddContacts}
		if err := src.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	muted := now.Add(time.Hour)
	c := &confab.Conversation{ConversationID: "d", CreatedBy: "ann", CreatedAt: now, Direct: true, ArchivedAt: &now,
		Settings: confab.ConversationSettings{Post: confab.RoleAdmin, React: confab.RoleReadOnly, SlowMode: 30},
		Members:  []confab.Member{{UserID: "ann", Role: confab.RoleOwner, JoinedAt: now}, {UserID: "bo", Role: confab.RoleReadOnly, JoinedAt: now, MutedUntil: &muted}}}
	if err := src.InsertConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	m := &confab.Message{MessageID: "m1", ConversationID: "d", UserID: "bo", Content: "spam", MessageType: confab.MessageText, CreatedAt: now}
	if _, err := src.AppendMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.DeleteMessage(ctx, "d", "m1", "ann", now); err != nil {
		t.Fatal(err)
	}
	dst, err := postgres.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := copyStore(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	got, err := dst.GetDirectConversation(ctx, "bo", "ann")
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings != c.Settings || got.ArchivedAt == nil || !got.ArchivedAt.Equal(now) || len(got.Members) != 2 ||
		got.Members[0].Role != confab.RoleOwner || got.Members[1].Role != confab.RoleReadOnly ||
		got.Members[1].MutedUntil == nil || !got.Members[1].MutedUntil.Equal(muted) {
		t.Fatalf("migrated conversation = %+v, want %+v", got, c)
	}
	if u, err := dst.GetUser(ctx, "ann"); err != nil || !u.Admin || u.AddPolicy != confab.AddContacts {
		t.Fatalf("migrated admin = %+v, %v", u, err)
	}
	msgs, err := dst.ListMessagesAfter(ctx, "d", 0, 10)
	if err != nil || len(msgs) != 1 || !msgs[0].Deleted || msgs[0].DeletedBy != "ann" {
		t.Fatalf("migrated tombstone = %+v, %v; want deleted by ann", msgs, err)
	}
}

// recipeFixture is a recipe deployment in DynamoDB Local written through
// the recipe's resolvers, and what a migration of it must yield.
type recipeFixture struct {
	endpoint, prefix  string
	d                 *recipetest.Deployment
	alice, bob, carol string              // Cognito subs; carol has no Users item
	team, direct      string              // conversation ids
	want              map[string][]string // conversation id → message ids in createdAt, messageId order
	t0                time.Time
}

// newRecipeFixture writes a team conversation (alice with bob and carol) of
// 30 messages sent out of order, some in the same millisecond, a direct one
// without a name (bob with alice) of 3, plus two items that cannot be
// migrated: a message of an unknown type and a message of a conversation
// the Conversations table lacks.
func newRecipeFixture(t *testing.T) *recipeFixture {
	t.Helper()
	endpoint := recipetest.Endpoint(t)
	// The command reads AWS credentials the SDK's way; DynamoDB Local
	// accepts any. Keep the machine's own AWS files out of it.
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	f := &recipeFixture{endpoint: endpoint, prefix: recipetest.Prefix(), alice: uuid.NewString(), bob: uuid.NewString(), carol: uuid.NewString(),
		want: map[string][]string{}, t0: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)}
	f.d = recipetest.CreateTables(t, recipetest.Client(endpoint), f.prefix)
	f.d.Put(f.d.Tables.Users, map[string]types.AttributeValue{ // a profile writer the deployment added
		"userId": &types.AttributeValueMemberS{Value: f.alice}, "username": &types.AttributeValueMemberS{Value: "alice"},
		"email": &types.AttributeValueMemberS{Value: "alice@example.com"}, "createdAt": &types.AttributeValueMemberS{Value: recipetest.ISO8601(f.t0)},
	})
	f.d.UpdateUserPresence(f.bob, true, f.t0.Add(time.Minute))
	name := "team"
	f.team = f.d.CreateConversation(f.alice, &name, []string{f.bob, f.carol}, f.t0.Add(time.Hour))
	f.direct = f.d.CreateConversation(f.bob, nil, []string{f.alice}, f.t0.Add(2*time.Hour))
	f.send(f.team, 30, []string{f.alice, f.bob, f.carol}, f.t0.Add(time.Hour))
	f.send(f.direct, 3, []string{f.bob, f.alice}, f.t0.Add(2*time.Hour))
	f.d.SendMessage(f.bob, f.direct, "a video?", "VIDEO", f.t0.Add(3*time.Hour))
	f.d.SendMessage(f.bob, uuid.NewString(), "lost", "TEXT", f.t0.Add(3*time.Hour))
	return f
}

// send sends n messages to conversation cid from senders in turn, in
// reverse time order, every third pair in the same millisecond.
func (f *recipeFixture) send(cid string, n int, senders []string, start time.Time) {
	type sent struct {
		id string
		at time.Time
	}
	var all []sent
	for i := n - 1; i >= 0; i-- {
		at := start.Add(time.Duration(i/2*2) * time.Second)
		if i%3 != 0 {
			at = start.Add(time.Duration(i) * time.Second)
		}
		id := f.d.SendMessage(senders[i%len(senders)], cid, fmt.Sprint("message ", i), "TEXT", at)
		all = append(all, sent{id, at})
	}
	slices.SortFunc(all, func(a, b sent) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id, b.id)) })
	for _, s := range all {
		f.want[cid] = append(f.want[cid], s.id)
	}
}

// migrate runs confab migrate --from-dynamodb with extra flags and returns
// its stdout, stderr and error.
func (f *recipeFixture) migrate(extra ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	args := append([]string{"migrate", "--from-dynamodb", "--dynamodb-table-prefix", f.prefix, "--dynamodb-region", "eu-west-1", "--dynamodb-endpoint", f.endpoint}, extra...)
	err := m.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

// TestMain_MigrateFromDynamoDB migrates a recipe deployment into SQLite and
// PostgreSQL: dry run first, then a run, then a second run that adds
// nothing, then a run after the recipe got more messages, which adds only
// those.
func TestMain_MigrateFromDynamoDB(t *testing.T) {
	targets := []struct {
		name string
		open func(t *testing.T) (flags []string, st confab.Store)
	}{
		{"SQLite", func(t *testing.T) ([]string, confab.Store) {
			data := t.TempDir()
			return []string{"--to", "sqlite", "--data", data}, openMigrated(t, func() (confab.Store, error) {
				return sqlite.Open(context.Background(), filepath.Join(data, "confab.db"))
			})
		}},
		{"PostgreSQL", func(t *testing.T) ([]string, confab.Store) {
			pg := postgresURL(t)
			return []string{"--to", "postgres", "--postgres", pg}, openMigrated(t, func() (confab.Store, error) { return postgres.Open(context.Background(), pg) })
		}},
		{"DynamoDB", func(t *testing.T) ([]string, confab.Store) {
			prefix := recipetest.Prefix()
			cfg := dynamodb.Config{Region: "eu-west-1", Endpoint: recipetest.Endpoint(t), TablePrefix: prefix, CreateTables: true}
			st := openMigrated(t, func() (confab.Store, error) { return dynamodb.Open(context.Background(), cfg) })
			t.Cleanup(func() { deleteTables(t, cfg.Endpoint, prefix) })
			return []string{"--to", "dynamodb", "--to-dynamodb-table-prefix", prefix}, st
		}},
	}
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			f := newRecipeFixture(t)
			out, errOut, err := f.migrate("--dry-run")
			if err == nil || !strings.Contains(out, "dry run, nothing written: 3 users (1 of them only named in conversations or messages), 2 conversations, 33 messages to migrate; 2 items cannot be migrated") {
				t.Fatalf("dry run: err %v, stdout %q, want the counts and an error for the 2 items", err, out)
			}
			if !strings.Contains(errOut, `messageType "VIDEO"`) || !strings.Contains(errOut, "1 messages of conversation") {
				t.Fatalf("dry run stderr = %q, want both bad items named", errOut)
			}
			flags, st := tt.open(t)
			if n := f.countAll(t, st); n != 0 {
				t.Fatalf("the dry run wrote %d messages", n)
			}

			out, _, err = f.migrate(flags...)
			if err == nil || out != "migrated 3 users (3 new), 2 conversations (2 new), 33 messages (33 new); 2 items not migrated\n" {
				t.Fatalf("first run: err %v, stdout %q", err, out)
			}
			f.check(t, st)

			out, _, _ = f.migrate(flags...)
			if out != "migrated 3 users (0 new), 2 conversations (0 new), 33 messages (0 new); 2 items not migrated\n" {
				t.Fatalf("second run: stdout %q, want nothing new", out)
			}
			f.check(t, st)

			f.send(f.direct, 2, []string{f.alice}, f.t0.Add(4*time.Hour))
			out, _, _ = f.migrate(flags...)
			if out != "migrated 3 users (0 new), 2 conversations (0 new), 35 messages (2 new); 2 items not migrated\n" {
				t.Fatalf("run after new recipe messages: stdout %q, want the 2 new ones", out)
			}
			f.check(t, st)
		})
	}
}

// openMigrated opens the migration's target store a second time, to read
// what it holds.
func openMigrated(t *testing.T, open func() (confab.Store, error)) confab.Store {
	t.Helper()
	st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func (f *recipeFixture) countAll(t *testing.T, st confab.Store) int {
	t.Helper()
	n := 0
	for cid := range f.want {
		if c, err := st.GetConversation(context.Background(), cid); err == nil {
			n += int(c.LastSeq)
		}
	}
	return n
}

// check asserts that st holds every user with the sub as its id and no
// password, and every conversation with every message once, seqs 1..n in
// createdAt, messageId order, the summary computed, history read.
func (f *recipeFixture) check(t *testing.T, st confab.Store) {
	t.Helper()
	ctx := context.Background()
	for sub, username := range map[string]string{f.alice: "alice", f.bob: f.bob, f.carol: f.carol} {
		a, err := st.GetAccountByLogin(ctx, username)
		if err != nil {
			t.Fatalf("account %s: %v", username, err)
		}
		if a.User.UserID != sub || a.PasswordHash != "" || a.User.IsOnline {
			t.Fatalf("account %s = %+v, want userId %s, no password, offline", username, a, sub)
		}
	}
	for cid, ids := range f.want {
		c, err := st.GetConversation(ctx, cid)
		if err != nil {
			t.Fatalf("conversation %s: %v", cid, err)
		}
		msgs, err := st.ListMessagesAfter(ctx, cid, 0, confab.MaxPageLimit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, m := range msgs {
			if m.Seq != int64(i+1) {
				t.Fatalf("conversation %s: message %d has seq %d, want gapless from 1", cid, i, m.Seq)
			}
			got = append(got, m.MessageID)
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("conversation %s: messages by seq\n%v\nwant (createdAt, messageId order)\n%v", cid, got, ids)
		}
		last := msgs[len(msgs)-1]
		if c.LastSeq != int64(len(ids)) || c.MessageCount != len(ids) || c.LastMessage == nil || *c.LastMessage != last.Content || !c.LastMessageAt.Equal(last.CreatedAt) {
			t.Fatalf("conversation %s summary = seq %d count %d last %v at %v; want %d, %d, %q at %v", cid, c.LastSeq, c.MessageCount, c.LastMessage, c.LastMessageAt, len(ids), len(ids), last.Content, last.CreatedAt)
		}
		for _, mb := range c.Members {
			if mb.LastReadSeq != c.LastSeq {
				t.Fatalf("conversation %s: member %s read up to %d, want %d (history counts as read)", cid, mb.UserID, mb.LastReadSeq, c.LastSeq)
			}
		}
	}
	team, _ := st.GetConversation(ctx, f.team)
	if got := strings.Join(team.Participants(), ","); len(team.Members) != 3 || team.Name == nil || *team.Name != "team" || team.CreatedBy != f.alice {
		t.Fatalf("team = %s named %v by %s, want alice, bob and carol in %q by alice", got, team.Name, team.CreatedBy, "team")
	}
	if direct, _ := st.GetConversation(ctx, f.direct); direct.Name != nil || len(direct.Members) != 2 {
		t.Fatalf("direct conversation = %+v, want no name and 2 members", direct)
	}
}

// TestMain_MigrateFromDynamoDBServe serves a migrated deployment: an
// account has no password until one is set (every sign-in fails, none
// succeeds with an empty password), and a token whose subject is the old
// Cognito sub reads that user's history in seq order.
func TestMain_MigrateFromDynamoDBServe(t *testing.T) {
	f := newRecipeFixture(t)
	data := t.TempDir()
	if _, _, err := f.migrate("--to", "sqlite", "--data", data); err == nil {
		t.Fatal("migrate: nil error, want one for the 2 bad items")
	}
	a := runMain(t, "--data", data)
	a.data = data // the flag given last wins
	for _, pw := range []string{"", "Passw0rd!x"} {
		if status, body := a.postJSON(t, "/auth/login", map[string]string{"email": "alice@example.com", "password": pw}, nil); status == 200 || status >= 500 {
			t.Fatalf("login to a migrated account with password %q: %d %v, want a 4xx", pw, status, body)
		}
	}
	zed := a.signUp(t, "zed")
	claims := jwt.MapClaims{}
	hdr := map[string]any{}
	jwt.NewParser().ParseUnverified(zed.idToken, claims)
	json.NewDecoder(base64URL(strings.Split(zed.idToken, ".")[0])).Decode(&hdr)
	claims["sub"] = f.alice
	token := forgeToken(t, a.serverKey(t), hdr["kid"].(string), claims)

	items := a.mustGQL(t, token, `query($c:ID!){ listMessages(conversationId:$c, limit:100){ items { messageId seq } } }`, map[string]any{"c": f.team})["listMessages"].(map[string]any)["items"].([]any)
	want := f.want[f.team]
	if len(items) != len(want) {
		t.Fatalf("listMessages: %d items, want %d", len(items), len(want))
	}
	for i, it := range items { // newest first
		m := it.(map[string]any)
		if m["messageId"] != want[len(want)-1-i] || m["seq"].(float64) != float64(len(want)-i) {
			t.Fatalf("listMessages item %d = %v, want %s at seq %d", i, m, want[len(want)-1-i], len(want)-i)
		}
	}
	conv := a.mustGQL(t, token, `query($c:ID!){ getConversation(conversationId:$c){ participants unreadCount } }`, map[string]any{"c": f.team})["getConversation"].(map[string]any)
	if len(conv["participants"].([]any)) != 3 || conv["unreadCount"].(float64) != 0 {
		t.Fatalf("getConversation as alice = %v, want 3 participants and nothing unread", conv)
	}
}

// TestMain_MigrateFromDynamoDBCognito completes the accounts from the user
// pool's export: carol's real email instead of the placeholder, dora (who
// never chatted) migrated disabled, and a pool entry with a bad address
// reported.
func TestMain_MigrateFromDynamoDBCognito(t *testing.T) {
	f := newRecipeFixture(t)
	pool := filepath.Join(t.TempDir(), "pool.json")
	dora := uuid.NewString()
	export := fmt.Sprintf(`{"Users": [
		{"Username": %[1]q, "Attributes": [{"Name": "sub", "Value": %[1]q}, {"Name": "email", "Value": "Carol@Example.com"}], "UserCreateDate": "2023-01-02T03:04:05.000000+00:00", "Enabled": true},
		{"Username": %[2]q, "Attributes": [{"Name": "sub", "Value": %[2]q}, {"Name": "email", "Value": "dora@example.com"}], "UserCreateDate": 1672628645, "Enabled": false},
		{"Username": "eve", "Attributes": [{"Name": "email", "Value": "eve at example.com"}], "UserCreateDate": 1672628645, "Enabled": true}
	]}`, f.carol, dora)
	if err := os.WriteFile(pool, []byte(export), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	out, errOut, err := f.migrate("--to", "sqlite", "--data", data, "--cognito-users", pool)
	if err == nil || out != "migrated 4 users (4 new), 2 conversations (2 new), 33 messages (33 new); 3 items not migrated\n" || !strings.Contains(errOut, `"eve at example.com"`) {
		t.Fatalf("migrate: err %v, stdout %q, stderr %q; want 4 users (dora added, eve reported)", err, out, errOut)
	}
	st := openMigrated(t, func() (confab.Store, error) {
		return sqlite.Open(context.Background(), filepath.Join(data, "confab.db"))
	})
	carol, err := st.GetAccountByLogin(context.Background(), "carol@example.com")
	if err != nil || carol.User.UserID != f.carol || !carol.User.CreatedAt.Equal(time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)) || carol.Disabled {
		t.Fatalf("carol = %+v, %v; want found by the pool's email, created when the pool says", carol, err)
	}
	d, err := st.GetAccountByLogin(context.Background(), "dora@example.com")
	if err != nil || d.User.UserID != dora || !d.Disabled {
		t.Fatalf("dora = %+v, %v; want migrated, disabled as in the pool", d, err)
	}
}

// deleteTables deletes the tables whose names start with prefix (DynamoDB
// Local keeps them until it stops).
func deleteTables(t *testing.T, endpoint, prefix string) {
	db := recipetest.Client(endpoint)
	ctx := context.Background()
	p := ddb.NewListTablesPaginator(db, &ddb.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Errorf("list tables: %v", err)
			return
		}
		for _, name := range page.TableNames {
			if strings.HasPrefix(name, prefix) {
				db.DeleteTable(ctx, &ddb.DeleteTableInput{TableName: &name})
			}
		}
	}
}

// TestMain_MigrateFromDynamoDB_ErrUsage refuses incomplete or unsafe flag
// combinations before reaching AWS, with exit status 2.
func TestMain_MigrateFromDynamoDB_ErrUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"NoPrefix", []string{"--from-dynamodb", "--to", "sqlite"}, "needs --dynamodb-table-prefix"},
		{"NoTo", []string{"--from-dynamodb", "--dynamodb-table-prefix", "app-"}, "needs --to sqlite|postgres|dynamodb"},
		{"UnknownTo", []string{"--from-dynamodb", "--dynamodb-table-prefix", "app-", "--to", "mysql"}, "needs --to sqlite|postgres|dynamodb"},
		{"ToDynamoDBNoPrefix", []string{"--from-dynamodb", "--dynamodb-table-prefix", "app-", "--to", "dynamodb"}, "other than the recipe's"},
		{"ToDynamoDBSamePrefix", []string{"--from-dynamodb", "--dynamodb-table-prefix", "app-", "--to", "dynamodb", "--to-dynamodb-table-prefix", "app-"}, "other than the recipe's"},
		{"DryRunAlone", []string{"--dry-run", "--postgres", "postgres://x"}, "go with --from-dynamodb"},
		{"CognitoAlone", []string{"--cognito-users", "pool.json", "--postgres", "postgres://x"}, "go with --from-dynamodb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
			err := m.Run(context.Background(), append([]string{"migrate"}, tt.args...))
			if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("migrate %v = %v, want a usage error saying %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestMain_MigrateFromDynamoDBInvalidItems reports, in a dry run as in a
// run, the second of two Users items with one username (and migrates the
// first), and a conversation without createdBy together with its message.
func TestMain_MigrateFromDynamoDBInvalidItems(t *testing.T) {
	f := newRecipeFixture(t)
	for _, id := range []string{"dup-1", "dup-2"} {
		f.d.Put(f.d.Tables.Users, map[string]types.AttributeValue{
			"userId": &types.AttributeValueMemberS{Value: id}, "username": &types.AttributeValueMemberS{Value: "dup"},
		})
	}
	f.d.Put(f.d.Tables.Conversations, map[string]types.AttributeValue{
		"conversationId": &types.AttributeValueMemberS{Value: "damaged"}, "createdAt": &types.AttributeValueMemberS{Value: recipetest.ISO8601(f.t0)},
	})
	f.d.SendMessage(f.alice, "damaged", "into the void", "TEXT", f.t0)
	for _, flags := range [][]string{{"--dry-run"}, {"--to", "sqlite", "--data", t.TempDir()}} {
		out, errOut, err := f.migrate(flags...)
		if err == nil || !strings.Contains(out, "4 users") || !strings.Contains(out, "4 items") ||
			!strings.Contains(errOut, `user "dup-2": user "dup-1" has the same username dup`) ||
			!strings.Contains(errOut, `item "damaged": createdBy is missing (so are its 1 messages)`) {
			t.Fatalf("migrate %v: err %v, stdout %q, stderr %q; want dup-1 migrated, dup-2 and the damaged conversation reported", flags, err, out, errOut)
		}
	}
}

// failingStore is a real store whose AppendMessage fails after a number
// of successful calls: a migration that dies halfway.
type failingStore struct {
	confab.Store
	left atomic.Int32
}

func (s *failingStore) AppendMessage(ctx context.Context, m *confab.Message) (bool, error) {
	if s.left.Add(-1) < 0 {
		return false, errors.New("injected failure")
	}
	return s.Store.AppendMessage(ctx, m)
}

// TestRecipeCopy_Resume stops a migration after 20 of its 33 appends (in
// the middle of a conversation, with conversations copied concurrently),
// then runs it again: the result is exactly that of one clean run.
func TestRecipeCopy_Resume(t *testing.T) {
	f := newRecipeFixture(t)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := recipe.New(recipetest.Client(f.endpoint), recipe.TableNames(f.prefix))
	broken := &failingStore{Store: st}
	broken.left.Store(20)
	first := &recipeCopy{r: r, dst: broken, now: time.Now(), problem: func(error) {}}
	if err := first.run(context.Background()); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("first run = %v, want the injected failure", err)
	}
	// 20 appends passed the failure point; one still in flight when the
	// failure cancelled the run may have been abandoned.
	done := f.countAll(t, st)
	if done < 19 || done > 20 {
		t.Fatalf("after the failure the store holds %d messages, want 19 or 20", done)
	}
	again := &recipeCopy{r: r, dst: st, now: time.Now(), problem: func(error) {}}
	if err := again.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again.n.messagesAdded != 33-done || again.n.messages != 33 {
		t.Fatalf("second run added %d of %d messages, want %d of 33", again.n.messagesAdded, again.n.messages, 33-done)
	}
	f.check(t, st)
}
