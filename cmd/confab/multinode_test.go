package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
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

// sendWithToken sends content with clientToken through a's /graphql, giving
// up after wait. It returns the message's seq, or the error code of a
// refusal; err is a transport failure (such as the wait passing). Safe on
// any goroutine.
func sendWithToken(a *app, idToken, cid, content, clientToken string, wait time.Duration) (seq int, code string, err error) {
	const q = `mutation($c:ID!,$t:String!,$k:String){ sendMessage(input:{conversationId:$c, content:$t, clientToken:$k}){ seq } }`
	b, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"c": cid, "t": content, "k": clientToken}})
	req, _ := http.NewRequest(http.MethodPost, a.url+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", idToken)
	resp, err := (&http.Client{Timeout: wait}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, "", err
	}
	if c := errCode(body); c != "" {
		return 0, c, nil
	}
	data, _ := body["data"].(map[string]any)
	m, _ := data["sendMessage"].(map[string]any)
	s, ok := m["seq"].(float64)
	if !ok {
		return 0, "", fmt.Errorf("status %d, body %v", resp.StatusCode, body)
	}
	return int(s), "", nil
}

// waitBackend polls pg_stat_activity until a backend matches cond (SQL over
// pg_stat_activity, with $1 bound to arg) and returns its pid.
func waitBackend(t *testing.T, conn *pgx.Conn, cond string, arg any) int32 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pid int32
		err := conn.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity WHERE `+cond+` LIMIT 1`, arg).Scan(&pid)
		if err == nil {
			return pid
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backend with %s", cond)
		}
		time.Sleep(20 * time.Millisecond) // polling the server's state
	}
}

// TestMultiNode_FrozenNode stops node A (SIGSTOP) in the middle of an
// append, between its UPDATE of the conversation (which takes the row
// lock) and its COMMIT: the state in which a frozen node used to stall
// every node's sends to the conversation for as long as it stayed frozen.
//
// To stop A exactly there, the test holds a lock that A's INSERT of the
// message waits for (LOCK TABLE messages IN SHARE MODE from the test's own
// connection), stops A once pg_stat_activity shows that wait, then lets the
// INSERT through. A's session then sits idle in transaction holding the
// conversation's row lock while A is stopped, the same as a node frozen
// there by itself; no test hook is built into the binary.
//
// Node B's sends each fail UNAVAILABLE within lock_timeout or succeed, and
// retried with their clientToken all succeed once the server has ended
// A's idle session, while A is still stopped. Resumed, A's send is
// UNAVAILABLE and its retry succeeds; a subscriber sees every message once,
// in order.
func TestMultiNode_FrozenNode(t *testing.T) {
	pg := postgresURL(t)
	natsURL := startNATS(t)
	bin := buildBinary(t)
	keyDir := t.TempDir()
	shared := []string{"--store", "postgres", "--postgres", pg, "--broker", "nats", "--nats", natsURL, "--key-file", filepath.Join(keyDir, "key.pem")}
	cmdA, nodeA := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	_, nodeB := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	t.Cleanup(func() { cmdA.Process.Signal(syscall.SIGCONT) }) // so that it can be stopped

	alice, bob := nodeA.signUp(t, "alice"), nodeA.signUp(t, "bob")
	cid := nodeA.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	ws := nodeB.dialGQLWS(t, bob.idToken)
	ws.send(map[string]any{"id": "s", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($c:ID!,$a:Int){ onMessageSent(conversationId:$c, afterSeq:$a){ seq } }`,
		"variables": map[string]any{"c": cid, "a": 0}}})

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE messages IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	var testPID int32
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&testPID); err != nil {
		t.Fatal(err)
	}

	type result struct {
		seq  int
		code string
		err  error
	}
	frozen := make(chan result, 1)
	go func() {
		seq, code, err := sendWithToken(nodeA, alice.idToken, cid, "from the frozen node", "frozen-1", time.Minute)
		frozen <- result{seq, code, err}
	}()
	pidA := waitBackend(t, conn, `pg_blocking_pids(pid) @> ARRAY[$1::int]`, testPID) // A's INSERT waits for the test's lock
	if err := cmdA.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitBackend(t, conn, `pid = $1 AND state = 'idle in transaction'`, pidA)

	frozeAt := time.Now()
	unavailable := 0
	const attemptLimit = 2*time.Second + time.Second // lock_timeout, and slack for a loaded machine
	for i := range 5 {
		token := fmt.Sprint("b-", i)
		for attempt := 1; ; attempt++ {
			start := time.Now()
			seq, code, err := sendWithToken(nodeB, alice.idToken, cid, fmt.Sprint("from B ", i), token, 10*time.Second)
			if took := time.Since(start); err != nil || took > attemptLimit {
				t.Fatalf("send %d attempt %d on B took %v (%v): a frozen node stalls the other's sends", i, attempt, took, err)
			}
			if code == "" && seq > 0 {
				break
			}
			if code != "UNAVAILABLE" {
				t.Fatalf("send %d attempt %d on B: %s, want success or UNAVAILABLE", i, attempt, code)
			}
			unavailable++
			if time.Since(frozeAt) > 8*time.Second {
				t.Fatalf("B's sends still fail %v after A froze (idle_in_transaction_session_timeout is 3 s)", time.Since(frozeAt))
			}
		}
	}
	t.Logf("B's 5 sends done %v after A froze, after %d UNAVAILABLE attempts", time.Since(frozeAt), unavailable)
	if err := cmdA.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	r := <-frozen
	t.Logf("A's send, resumed: %+v", r)
	if r.err != nil || (r.code != "UNAVAILABLE" && r.code != "") {
		t.Fatalf("the frozen node's send, resumed: %+v; want UNAVAILABLE (its transaction was ended) or success", r)
	}
	if r.code == "UNAVAILABLE" {
		if seq, code, err := sendWithToken(nodeA, alice.idToken, cid, "from the frozen node", "frozen-1", 10*time.Second); err != nil || code != "" || seq != 6 {
			t.Fatalf("retry on A: seq %d, code %q, %v; want seq 6", seq, code, err)
		}
	}
	wantConsecutive(t, "subscriber on B", onMessageSentSeqs(t, ws, 6), 1)
}

// natsAt runs an embedded NATS server on a loopback port (0: a free one),
// stopped when the test ends if still running.
func natsAt(t *testing.T, port int) *natsserver.Server {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// arrival is one frame a subscriber got: a message's seq and when, or the
// end of the subscription (err, or a frame that is not "next").
type arrival struct {
	seq int
	at  time.Time
	end string
}

// readSeqs reads onMessageSent frames from ws until the socket closes,
// reporting each on the channel it returns (safe on its goroutine).
func readSeqs(ws *wsClient) <-chan arrival {
	out := make(chan arrival, 4096)
	go func() {
		defer close(out)
		for {
			var m map[string]any
			if err := ws.conn.ReadJSON(&m); err != nil {
				out <- arrival{end: err.Error()}
				return
			}
			if m["type"] != "next" {
				out <- arrival{end: fmt.Sprint(m)}
				return
			}
			seq := m["payload"].(map[string]any)["data"].(map[string]any)["onMessageSent"].(map[string]any)["seq"].(float64)
			out <- arrival{seq: int(seq), at: time.Now()}
		}
	}()
	return out
}

// TestMultiNode_BrokerOutage kills NATS for 5 s under two nodes while
// both send steadily to one conversation that has a subscriber on each
// node. Nobody is disconnected; every subscriber gets every message, once,
// in order; and during the outage, when no event can travel, subscribers
// are still fed (from the store).
func TestMultiNode_BrokerOutage(t *testing.T) {
	pg := postgresURL(t)
	ns := natsAt(t, 0)
	port := ns.Addr().(*net.TCPAddr).Port
	bin := buildBinary(t)
	keyDir := t.TempDir()
	shared := []string{"--store", "postgres", "--postgres", pg, "--broker", "nats", "--nats", ns.ClientURL(), "--key-file", filepath.Join(keyDir, "key.pem")}
	_, nodeA := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	_, nodeB := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)

	alice, bob := nodeA.signUp(t, "alice"), nodeA.signUp(t, "bob")
	cid := nodeA.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	sub := map[string]any{"query": `subscription($c:ID!,$a:Int){ onMessageSent(conversationId:$c, afterSeq:$a){ seq } }`, "variables": map[string]any{"c": cid, "a": 0}}
	subscribers := map[string]*wsClient{"A": nodeA.dialGQLWS(t, bob.idToken), "B": nodeB.dialGQLWS(t, bob.idToken)}
	for name, ws := range subscribers {
		ws.send(map[string]any{"id": name, "type": "subscribe", "payload": sub})
	}
	nodeA.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "warm-up"})
	arrivals := map[string]<-chan arrival{}
	for name, ws := range subscribers {
		wantConsecutive(t, "subscriber on "+name, onMessageSentSeqs(t, ws, 1), 1)
		arrivals[name] = readSeqs(ws)
	}

	// Steady senders, one per node, each send retried with its clientToken
	// until it succeeds.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	sendErrs := make(chan error, 2)
	for name, node := range map[string]*app{"A": nodeA, "B": nodeB} {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond): // the senders' pace, 50/s each
				}
				token := fmt.Sprint(name, "-", i)
				for attempt := 0; ; attempt++ {
					_, code, err := sendWithToken(node, alice.idToken, cid, "steady "+token, token, 10*time.Second)
					if err == nil && code == "" {
						break
					}
					if attempt == 20 {
						sendErrs <- fmt.Errorf("node %s send %s: %q %v", name, token, code, err)
						return
					}
				}
			}
		})
	}

	time.Sleep(time.Second) // steady traffic before the fault
	ns.Shutdown()
	ns.WaitForShutdown()
	killedAt := time.Now()
	time.Sleep(5 * time.Second) // the outage
	natsAt(t, port)
	restartedAt := time.Now()
	time.Sleep(3 * time.Second) // the nodes reconnect (NATS client: every 2 s) and traffic goes on
	close(stop)
	wg.Wait()
	select {
	case err := <-sendErrs:
		t.Fatal(err)
	default:
	}
	var last int
	row := nodeB.mustGQL(t, alice.idToken, `query($c:ID!){ getConversation(conversationId:$c){ lastSeq } }`, map[string]any{"c": cid})
	if c, ok := row["getConversation"].(map[string]any); ok {
		if v, ok := c["lastSeq"].(float64); ok {
			last = int(v)
		}
	}
	if last < 100 {
		t.Fatalf("lastSeq %d after 9 s of sending at 100/s", last)
	}

	for name, ch := range arrivals {
		var seqs []int
		duringOutage := 0
		deadline := time.After(20 * time.Second)
		for len(seqs) < last-1 {
			select {
			case a := <-ch:
				if a.end != "" {
					t.Fatalf("subscriber on %s ended after %d messages: %s", name, len(seqs), a.end)
				}
				seqs = append(seqs, a.seq)
				if a.at.After(killedAt.Add(time.Second)) && a.at.Before(restartedAt) {
					duringOutage++
				}
			case <-deadline:
				t.Fatalf("subscriber on %s got %d of %d messages", name, len(seqs), last-1)
			}
		}
		wantConsecutive(t, "subscriber on "+name, seqs, 2)
		if duringOutage == 0 {
			t.Fatalf("subscriber on %s got nothing while NATS was down (from 1 s after the kill to the restart): not fed from the store", name)
		}
		t.Logf("subscriber on %s: %d messages, %d of them while NATS was down", name, len(seqs), duringOutage)
	}
}

// TestMultiNode_TypingAndReceipts: typing notices and read receipts are
// never stored, so they reach the other node only through NATS. A
// subscriber on node B sees alice, who uses node A, start typing, stop
// with a send, run out by herself (node B's own timer: nothing more comes
// from A), and read the conversation.
func TestMultiNode_TypingAndReceipts(t *testing.T) {
	pg := postgresURL(t)
	natsURL := startNATS(t)
	bin := buildBinary(t)
	keyDir := t.TempDir()
	shared := []string{"--store", "postgres", "--postgres", pg, "--broker", "nats", "--nats", natsURL,
		"--key-file", filepath.Join(keyDir, "key.pem"), "--typing-timeout", "1s"}
	_, nodeA := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	_, nodeB := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)

	alice, bob := nodeA.signUp(t, "alice"), nodeA.signUp(t, "bob")
	cid := nodeA.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	s := dialLive(t, nodeB, "graphql-ws", bob)
	s.subscribe("t", onTypingSub, map[string]any{"c": cid})
	s.subscribe("r", onReceiptSub, map[string]any{"c": cid})
	waitSubscriptions(t, nodeB, "onTyping", 1)
	waitSubscriptions(t, nodeB, "onReadReceipt", 1)

	nodeA.mustGQL(t, alice.idToken, setTypingMut, map[string]any{"c": cid, "t": true})
	wantLive(t, s, "t", "onTyping", map[string]any{"conversationId": cid, "userId": alice.userID, "typing": true})
	nodeA.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "from A"})
	wantLive(t, s, "t", "onTyping", map[string]any{"userId": alice.userID, "typing": false})
	nodeA.mustGQL(t, alice.idToken, setTypingMut, map[string]any{"c": cid, "t": true})
	wantLive(t, s, "t", "onTyping", map[string]any{"userId": alice.userID, "typing": true})
	wantLive(t, s, "t", "onTyping", map[string]any{"userId": alice.userID, "typing": false}) // ran out on B

	nodeA.mustGQL(t, alice.idToken, markReadMut, map[string]any{"c": cid, "s": 1})
	wantLive(t, s, "r", "onReadReceipt", map[string]any{"conversationId": cid, "userId": alice.userID, "seq": 1})
}
