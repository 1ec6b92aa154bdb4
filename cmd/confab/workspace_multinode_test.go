package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// natsTopic is the broker topic of a NATS subject confab publishes:
// "confab.<topic>", or its base64url-encoded form under confab._b64.
func natsTopic(subject string) string {
	if enc, ok := strings.CutPrefix(subject, "confab._b64."); ok {
		b, err := base64.RawURLEncoding.DecodeString(enc)
		if err == nil {
			return string(b)
		}
	}
	return strings.TrimPrefix(subject, "confab.")
}

// TestWorkspace_TwoNodesPostgresNATS: two nodes on one PostgreSQL and one
// NATS serve workspaces A and B. A's member subscribes on node 1; B's
// members create a conversation and talk on node 2. Every event of B
// travels on NATS under ws.<b>. only, A's subscriber receives none of them
// (its first event is the marker A sends afterwards, on node 2), and A's
// only subjects are its own under ws.<a>.
func TestWorkspace_TwoNodesPostgresNATS(t *testing.T) {
	pg := postgresURL(t)
	ids := []string{randomWorkspaceID(t, pg), randomWorkspaceID(t, pg)}
	natsURL := startNATS(t)
	bin := buildBinary(t)
	shared := []string{"--store", "postgres", "--postgres", pg, "--broker", "nats", "--nats", natsURL,
		"--key-file", filepath.Join(t.TempDir(), "key.pem"), "--workspaces", writeWorkspaces(t, ids...)}
	_, node1 := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	_, node2 := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	a1, a2, b2 := node1.inWorkspace(ids[0]), node2.inWorkspace(ids[0]), node2.inWorkspace(ids[1])

	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	var topics []string
	sub, err := nc.Subscribe("confab.>", func(m *nats.Msg) {
		mu.Lock()
		topics = append(topics, natsTopic(m.Subject))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	alice, bob := a1.signUp(t, "alice"), a1.signUp(t, "bob")
	convA := a1.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{bob.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	ws := a1.dialGQLWS(t, alice.idToken)
	ws.send(map[string]any{"id": "m", "type": "subscribe", "payload": map[string]any{"query": `subscription($c:ID!){ onMessageSent(conversationId:$c){ seq content } }`, "variables": map[string]any{"c": convA}}})
	ws.send(map[string]any{"id": "c", "type": "subscribe", "payload": map[string]any{"query": `subscription($u:ID!){ onConversationUpdated(userId:$u){ conversationId } }`, "variables": map[string]any{"u": alice.userID}}})
	waitSubscriptionsAt(t, node1, ids[0], "onMessageSent", 1)
	waitSubscriptionsAt(t, node1, ids[0], "onConversationUpdated", 1)

	mu.Lock()
	topics = nil // from here on: B's traffic, then A's marker
	mu.Unlock()
	carol, dave := b2.signUp(t, "carol"), b2.signUp(t, "dave")
	convB := b2.mustGQL(t, carol.idToken, createConv, map[string]any{"p": []string{dave.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	for _, text := range []string{"one", "two", "three"} {
		b2.mustGQL(t, carol.idToken, sendMsg, map[string]any{"c": convB, "t": text})
	}
	b2.mustGQL(t, dave.idToken, `mutation($c:ID!){ leaveConversation(conversationId:$c) }`, map[string]any{"c": convB}) // a control-topic event
	a2.mustGQL(t, bob.idToken, sendMsg, map[string]any{"c": convA, "t": "marker"})

	m := ws.read()
	if m["type"] != "next" || m["id"] != "m" || !strings.Contains(fmt.Sprint(m["payload"]), "marker") {
		t.Fatalf("A's subscriber on node 1: first frame %v, want the marker (nothing of B)", m)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var ofB, ofA int
	for _, topic := range topics {
		switch {
		case strings.HasPrefix(topic, "ws."+ids[1]+"."):
			ofB++
		case strings.HasPrefix(topic, "ws."+ids[0]+"."):
			ofA++
			if strings.Contains(topic, convB) || strings.Contains(topic, carol.userID) || strings.Contains(topic, dave.userID) {
				t.Errorf("B's ids on A's subject %s", topic)
			}
		default:
			t.Errorf("subject of topic %q outside every workspace's ws.<id>.", topic)
		}
	}
	if ofB == 0 || ofA == 0 {
		t.Errorf("NATS carried %d of B's events and %d of A's (%v), want both", ofB, ofA, topics)
	}
	t.Logf("NATS subjects while B talked and A sent a marker: %d under ws.%s., %d under ws.%s.", ofB, ids[1], ofA, ids[0])
}

// waitSubscriptionsAt is waitSubscriptions for workspace ws of a server
// with workspaces (its metrics carry the workspace label).
func waitSubscriptionsAt(t *testing.T, a *app, ws, field string, n int) {
	t.Helper()
	prefix := `confab_realtime_subscriptions{field="` + field + `",workspace="` + ws + `"} `
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(a.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		got := 0
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				f, _ := strconv.ParseFloat(v, 64)
				got = int(f)
			}
		}
		resp.Body.Close()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d live %s subscriptions in %s after 10 s", n, field, ws)
		}
		time.Sleep(10 * time.Millisecond) // polling the server's count, not synchronising with an event
	}
}
