package main

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestMultiNode_RevocationReachesEveryNode: two confab processes on one
// PostgreSQL and one NATS. Signing out on node A closes the user's
// WebSocket on node B with the auth close (4403) and B refuses the
// signed-out token, at once: not after the minute in which B trusts a
// cached token (auth.Config.RevocationCheck), because the revocation goes
// out on the broker (issue 18 item 4). The other user's socket on B stays.
func TestMultiNode_RevocationReachesEveryNode(t *testing.T) {
	pg := postgresURL(t)
	natsURL := startNATS(t)
	bin := buildBinary(t)
	keyDir := t.TempDir()
	shared := []string{"--store", "postgres", "--postgres", pg, "--broker", "nats", "--nats", natsURL, "--key-file", filepath.Join(keyDir, "key.pem")}
	_, nodeA := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)
	_, nodeB := startProcess(t, bin, append([]string{"--data", t.TempDir()}, shared...)...)

	alice, bob := nodeA.signUp(t, "alice"), nodeA.signUp(t, "bob")
	if status, body := nodeB.gql(t, alice.idToken, `{ me { userId } }`, nil); status != http.StatusOK || body["errors"] != nil {
		t.Fatalf("alice's token on B before sign-out: %d %v", status, body) // now cached on B
	}
	wsAlice := nodeB.dialGQLWS(t, alice.idToken)
	wsBob := nodeB.dialGQLWS(t, bob.idToken)

	start := time.Now()
	if status, body := nodeA.postJSON(t, "/auth/logout", map[string]string{"refreshToken": alice.refreshToken}, nil); status != http.StatusOK {
		t.Fatalf("logout on A: %d %v", status, body)
	}
	wsAlice.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, _, err := wsAlice.conn.ReadMessage()
	ce, ok := err.(*websocket.CloseError)
	if !ok || ce.Code != 4403 {
		t.Fatalf("alice's socket on B after sign-out on A: %v, want close 4403", err)
	}
	if took := time.Since(start); took >= 30*time.Second {
		t.Fatalf("B closed the socket after %v: that is the revocation check, not the broker", took)
	}
	if status, _ := nodeB.gql(t, alice.idToken, `{ me { userId } }`, nil); status != http.StatusUnauthorized {
		t.Errorf("alice's signed-out token on B: %d, want 401", status)
	}
	wsBob.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `query { me { userId } }`}})
	if m := wsBob.read(); m["type"] != "next" {
		t.Errorf("bob's socket on B after alice signed out: %v, want it open", m)
	}
}
