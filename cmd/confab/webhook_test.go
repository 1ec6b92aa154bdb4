package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/confab-chat/confab/notify/webhook"
)

// hookRequest is one request a test webhook receiver got.
type hookRequest struct {
	id, timestamp, signature string
	body                     []byte
}

// verifySignature checks a delivery as docs/webhooks.md tells receivers
// to. It is safe on any goroutine.
func verifySignature(secret string, r hookRequest) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.id + "." + r.timestamp + "."))
	mac.Write(r.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(r.signature) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("signature %q of %s does not verify", r.signature, r.id)
}

// runCLI runs one confab command in-process and returns its output.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	if err := m.Run(context.Background(), args); err != nil {
		t.Fatalf("confab %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// TestWebhook_SurvivesKill9 adds a webhook, sends a message, and kills the
// node with SIGKILL while it is delivering (the receiver holds the
// request); a node started on the same data delivers it once the dead
// node's lease expired: same webhook-id, signature valid, the message's
// content. Then a replay delivers it again with the same id.
func TestWebhook_SurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	testWebhookSurvivesKill9(t)
}

// TestWebhook_SurvivesKill9DynamoDB is TestWebhook_SurvivesKill9 on
// DynamoDB: the dead node's lease expires in the outbox item.
func TestWebhook_SurvivesKill9DynamoDB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	testWebhookSurvivesKill9(t, dynamoStoreArgs(t)...)
}

func testWebhookSurvivesKill9(t *testing.T, store ...string) {
	got := make(chan hookRequest, 10)
	holdFirst := make(chan struct{})
	var delivered atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- hookRequest{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body}
		if delivered.Add(1) == 1 {
			select { // the node is killed meanwhile
			case <-holdFirst:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	defer close(holdFirst)

	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	out := runCLI(t, append([]string{"webhook", "add", "--data", data, "--url", recv.URL, "--events", "message.sent"}, store...)...)
	lines := strings.Fields(out)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "wh_") || !strings.HasPrefix(lines[1], "whsec_") {
		t.Fatalf("webhook add printed %q, want the id and the secret", out)
	}
	secret := lines[1]
	if list := runCLI(t, append([]string{"webhook", "list", "--data", data}, store...)...); !strings.Contains(list, lines[0]) || !strings.Contains(list, "enabled") {
		t.Fatalf("webhook list = %q", list)
	}
	const lease = "2s"
	cmd, a := startProcess(t, bin, append([]string{"--data", data, "--outbox-lease", lease}, store...)...)
	alice := a.signUp(t, "alice")
	cid := a.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)
	sent := a.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": "survives"})["sendMessage"].(map[string]any)

	wait := func() hookRequest {
		t.Helper()
		select {
		case r := <-got:
			return r
		case <-time.After(30 * time.Second):
			t.Fatal("no webhook request within 30s")
			return hookRequest{}
		}
	}
	r1 := wait() // node 1 is delivering, and the receiver holds it
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killedAt := time.Now()

	cmd2, _ := startProcess(t, bin, append([]string{"--data", data, "--outbox-lease", lease}, store...)...)
	r2 := wait()
	if took := time.Since(killedAt); took < 2*time.Second-500*time.Millisecond {
		t.Errorf("redelivered %v after the kill, before the dead node's %s lease could expire", took, lease)
	}
	for _, r := range []hookRequest{r1, r2} {
		if err := verifySignature(secret, r); err != nil {
			t.Fatal(err)
		}
		var b struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				MessageID string `json:"messageId"`
				Content   string `json:"content"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.body, &b); err != nil {
			t.Fatal(err)
		}
		if b.ID != r.id || b.Type != "message.sent" || b.Data.MessageID != sent["messageId"] || b.Data.Content != "survives" {
			t.Fatalf("delivery %s = %+v, want message.sent of %v", r.id, b, sent["messageId"])
		}
	}
	if r1.id != r2.id {
		t.Fatalf("webhook-id %q after the crash, %q before: the idempotency id must not change", r2.id, r1.id)
	}
	cmd2.Process.Signal(syscall.SIGTERM)
	cmd2.Wait() // its worker has stopped: every delivery it made is in got
	select {
	case r := <-got:
		t.Fatalf("an extra delivery %s %s", r.id, r.body)
	default:
	}

	if out := runCLI(t, append([]string{"webhook", "replay", "--data", data, "--from", "1h"}, store...)...); !strings.Contains(out, "queued 1 deliveries") {
		t.Fatalf("replay printed %q, want 1 delivery", out)
	}
	cmd3, _ := startProcess(t, bin, append([]string{"--data", data}, store...)...)
	if r3 := wait(); r3.id != r1.id {
		t.Fatalf("replayed webhook-id %q, want the event's %q", r3.id, r1.id)
	}
	cmd3.Process.Signal(syscall.SIGTERM)
	cmd3.Wait()
}

func TestWebhook_CommandErr(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ErrNoURL", []string{"add", "--events", "all"}, "--url"},
		{"ErrURLScheme", []string{"add", "--url", "ftp://example.com/x", "--events", "all"}, "http"},
		{"ErrUnknownEvent", []string{"add", "--url", "https://example.com/x", "--events", "message.sent,message.exploded"}, `unknown event "message.exploded"`},
		{"ErrNoEvents", []string{"add", "--url", "https://example.com/x"}, "at least one event"},
		{"ErrSecret", []string{"add", "--url", "https://example.com/x", "--events", "all", "--secret", "hunter2"}, "whsec_"},
		{"ErrRemoveMissing", []string{"remove", "wh_nope"}, "not found"},
		{"ErrReplayFrom", []string{"replay", "--from", "yesterday"}, "neither an RFC 3339 time nor a duration"},
		{"ErrReplayWebhook", []string{"replay", "--from", "1h", "--webhook", "wh_nope"}, `no webhook "wh_nope"`},
		{"ErrCommand", []string{"explode"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
			args := append([]string{"webhook"}, tt.args[0])
			args = append(args, "--data", data)
			err := m.Run(context.Background(), append(args, tt.args[1:]...))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("confab webhook %v = %v, want an error with %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestWebhook_TwoNodesPostgres: two nodes on one PostgreSQL database both
// run the outbox worker; every message sent (on either node) reaches the
// receiver exactly once, signed.
func TestWebhook_TwoNodesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two nodes")
	}
	testWebhookTwoNodes(t, "--store", "postgres", "--postgres", postgresURL(t))
}

// TestWebhook_TwoNodesDynamoDB is TestWebhook_TwoNodesPostgres on
// DynamoDB: the nodes' claims race by conditional updates.
func TestWebhook_TwoNodesDynamoDB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two nodes")
	}
	testWebhookTwoNodes(t, dynamoStoreArgs(t)...)
}

func testWebhookTwoNodes(t *testing.T, store ...string) {
	var mu sync.Mutex
	seen := map[string]int{} // webhook-id → deliveries
	all := make(chan struct{})
	const sends = 40
	secret := webhook.NewSecret() // set before the receiver runs: it reads it
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifySignature(secret, hookRequest{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body}); err != nil {
			t.Error(err)
		}
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		if len(seen) == sends {
			close(all)
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	runCLI(t, append([]string{"webhook", "add", "--data", t.TempDir(), "--url", recv.URL, "--events", "message.sent", "--secret", secret}, store...)...)

	natsURL := startNATS(t)
	bin := buildBinary(t)
	shared := append(store, "--broker", "nats", "--nats", natsURL, "--key-file", filepath.Join(t.TempDir(), "key.pem"))
	cmdA, nodeA := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	cmdB, nodeB := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	alice := nodeA.signUp(t, "alice")
	cid := nodeB.mustGQL(t, alice.idToken, createConv, map[string]any{"p": []string{}})["createConversation"].(map[string]any)["conversationId"].(string)
	var wg sync.WaitGroup
	for i, node := range []*app{nodeA, nodeB} {
		wg.Go(func() {
			for j := range sends / 2 {
				node.mustGQL(t, alice.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("node ", i, " #", j)})
			}
		})
	}
	wg.Wait()
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		t.Fatal("not every message delivered within 60s")
	}
	for _, cmd := range []*exec.Cmd{cmdA, cmdB} {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait() // its worker stopped: every delivery it made has been counted
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != sends {
		t.Fatalf("%d distinct deliveries, want %d", len(seen), sends)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", id, n)
		}
	}
}
