package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/jackc/pgx/v5"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// postgresURL returns CONFAB_TEST_POSTGRES with a fresh schema (dropped at
// the end); the test skips without it, or fails when CI requires it.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CONFAB_TEST_POSTGRES")
	if base == "" {
		for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
			if name == "all" || name == "postgres" {
				t.Fatal("CONFAB_TEST_POSTGRES is unset and CONFAB_TEST_REQUIRE asks for postgres")
			}
		}
		t.Skip("CONFAB_TEST_POSTGRES is unset: start store/postgres/testdata/start-postgres.sh and export its URL")
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "multinode_" + hex.EncodeToString(b)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// startNATS runs an embedded NATS server on a random loopback port.
func startNATS(t *testing.T) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns.ClientURL()
}

func onMessageSentSeqs(t *testing.T, ws *wsClient, n int) []int {
	t.Helper()
	var seqs []int
	for len(seqs) < n {
		m := ws.read()
		if m["type"] != "next" {
			t.Fatalf("frame %v", m)
		}
		seqs = append(seqs, int(m["payload"].(map[string]any)["data"].(map[string]any)["onMessageSent"].(map[string]any)["seq"].(float64)))
	}
	return seqs
}

func wantConsecutive(t *testing.T, node string, seqs []int, from int) {
	t.Helper()
	for i, s := range seqs {
		if s != from+i {
			t.Fatalf("%s: seq %d at position %d, want %d (in order, no gaps, no duplicates)", node, s, i, from+i)
		}
	}
}

// dynamoStoreArgs returns the flags of --store dynamodb on
// CONFAB_TEST_DYNAMODB (DynamoDB Local) with a table prefix of its own,
// whose tables are deleted at the end; the test skips without it, or
// fails when CI requires it.
func dynamoStoreArgs(t *testing.T) []string {
	t.Helper()
	endpoint := os.Getenv("CONFAB_TEST_DYNAMODB")
	if endpoint == "" {
		for _, name := range strings.FieldsFunc(os.Getenv("CONFAB_TEST_REQUIRE"), func(r rune) bool { return r == ',' || r == ' ' }) {
			if name == "all" || name == "dynamodb" {
				t.Fatal("CONFAB_TEST_DYNAMODB is unset and CONFAB_TEST_REQUIRE asks for dynamodb")
			}
		}
		t.Skip("CONFAB_TEST_DYNAMODB is unset: start store/dynamodb/testdata/start-dynamodb.sh and export its URL")
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "e2e-" + hex.EncodeToString(b) + "-"
	t.Cleanup(func() {
		cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
		if err != nil {
			return
		}
		c := ddb.NewFromConfig(cfg, func(o *ddb.Options) { o.BaseEndpoint = aws.String(endpoint) })
		for _, name := range []string{"messages", "conversations", "users", "confab"} {
			c.DeleteTable(context.Background(), &ddb.DeleteTableInput{TableName: aws.String(prefix + name)})
		}
	})
	return []string{"--store", "dynamodb", "--dynamodb-region", "us-east-1", "--dynamodb-endpoint", endpoint, "--dynamodb-table-prefix", prefix}
}

// TestMultiNode_PostgresNATS runs two confab processes on one PostgreSQL
// and one NATS, with one shared signing key: a token from one node works
// on the other; subscribers on both nodes get every message sent through
// either node, in seq order; after node A is killed with SIGKILL its
// subscriber resumes on node B with afterSeq and misses nothing.
func TestMultiNode_PostgresNATS(t *testing.T) {
	testMultiNode(t, "--store", "postgres", "--postgres", postgresURL(t))
}

// TestMultiNode_DynamoDBNATS is TestMultiNode_PostgresNATS on DynamoDB:
// the two nodes race for each conversation's lastSeq.
func TestMultiNode_DynamoDBNATS(t *testing.T) {
	testMultiNode(t, dynamoStoreArgs(t)...)
}

func testMultiNode(t *testing.T, storeArgs ...string) {
	natsURL := startNATS(t)
	bin := buildBinary(t)
	keyDir := t.TempDir()
	shared := append(storeArgs, "--broker", "nats", "--nats", natsURL, "--key-file", filepath.Join(keyDir, "key.pem"))
	cmdA, nodeA := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	_, nodeB := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)

	alice := nodeA.signUp(t, "alice") // accounts made on A …
	bob := nodeA.signUp(t, "bob")
	cid := nodeB.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string) // … tokens accepted by B

	sub := map[string]any{"query": `subscription($c:ID!,$a:Int){ onMessageSent(conversationId:$c, afterSeq:$a){ seq } }`, "variables": map[string]any{"c": cid, "a": 0}}
	wsA := nodeA.dialGQLWS(t, bob.idToken)
	wsA.send(map[string]any{"id": "a", "type": "subscribe", "payload": sub})
	wsB := nodeB.dialGQLWS(t, bob.idToken)
	wsB.send(map[string]any{"id": "b", "type": "subscribe", "payload": sub})

	// Concurrent senders on both nodes.
	const perNode = 20
	var wg sync.WaitGroup
	for i, node := range []*app{nodeA, nodeB, nodeA, nodeB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perNode / 2 {
				node.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("sender ", i, " #", j)})
			}
		}()
	}
	wg.Wait()
	const sent = 2 * perNode
	wantConsecutive(t, "subscriber on A", onMessageSentSeqs(t, wsA, sent), 1)
	wantConsecutive(t, "subscriber on B", onMessageSentSeqs(t, wsB, sent), 1)

	// Node A dies; its subscriber comes back on B and resumes.
	cmdA.Process.Signal(syscall.SIGKILL)
	cmdA.Wait()
	for i := range 5 {
		nodeB.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("after the kill ", i)})
	}
	resumed := nodeB.dialGQLWS(t, bob.idToken)
	resumed.send(map[string]any{"id": "r", "type": "subscribe", "payload": map[string]any{"query": sub["query"], "variables": map[string]any{"c": cid, "a": sent}}})
	wantConsecutive(t, "resumed on B", onMessageSentSeqs(t, resumed, 5), sent+1)
	wantConsecutive(t, "subscriber on B (live)", onMessageSentSeqs(t, wsB, 5), sent+1)
}
