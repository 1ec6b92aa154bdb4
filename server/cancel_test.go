package server

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/gorilla/websocket"
)

// blockingSearch is a real store whose SearchMessages, standing in for a
// slow search, waits until its context ends and reports that it did.
type blockingSearch struct {
	confab.Store
	started, cancelled chan struct{}
}

func (b *blockingSearch) SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	close(b.started)
	select {
	case <-ctx.Done():
		close(b.cancelled)
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		return nil, nil
	}
}

// TestHTTP_ClientLeavesCancelsExecution: when the client of a POST
// /graphql hangs up, the context of the work it started ends.
func TestHTTP_ClientLeavesCancelsExecution(t *testing.T) {
	st := &blockingSearch{Store: openTestStore(t, filepath.Join(t.TempDir(), "confab.db")), started: make(chan struct{}), cancelled: make(chan struct{})}
	ts := newTestServer(t, Config{}, st)
	token := signUpAndIn(t, ts)
	_, out := postGraphQLRaw(t, ts, token, `{"query":"mutation { createConversation(input: {participants: []}) { conversationId } }"}`)
	conv, _ := out["data"].(map[string]any)["createConversation"].(map[string]any)["conversationId"].(string)
	if conv == "" {
		t.Fatalf("createConversation: %v", out)
	}
	body, _ := json.Marshal(map[string]string{"query": fmt.Sprintf(`{ searchMessages(conversationId: %q, searchTerm: "a") { seq } }`, conv)})
	c := rawRequest(t, ts.Server, head("/graphql", len(body), "Authorization: "+token), string(body))
	select {
	case <-st.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the search did not start")
	}
	c.Close()
	select {
	case <-st.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the search's context did not end when the client left")
	}
}

// slowSearch is a real store whose SearchMessages takes d, as a search
// over a large conversation may, unless its context ends first.
type slowSearch struct {
	confab.Store
	d time.Duration
}

func (s slowSearch) SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(s.d):
		return nil, nil
	}
}

// TestHTTP_LongOperationOutlivesReadTimeout: ReadTimeout bounds reading
// the body only; an operation that runs longer once the body is in is
// not cancelled by it.
func TestHTTP_LongOperationOutlivesReadTimeout(t *testing.T) {
	st := slowSearch{Store: openTestStore(t, filepath.Join(t.TempDir(), "confab.db")), d: time.Second}
	ts := newTestServer(t, Config{ReadTimeout: 200 * time.Millisecond}, st)
	token := signUpAndIn(t, ts)
	_, out := postGraphQLRaw(t, ts, token, `{"query":"mutation { createConversation(input: {participants: []}) { conversationId } }"}`)
	conv, _ := out["data"].(map[string]any)["createConversation"].(map[string]any)["conversationId"].(string)
	if conv == "" {
		t.Fatalf("createConversation: %v", out)
	}
	body, _ := json.Marshal(map[string]string{"query": fmt.Sprintf(`{ searchMessages(conversationId: %q, searchTerm: "a") { seq } }`, conv)})
	status, out := postGraphQLRaw(t, ts, token, string(body))
	if status != 200 || out["errors"] != nil {
		t.Fatalf("a 1 s search with a 200 ms read timeout: %d %v", status, out)
	}
}

// TestWebSocket_StopAndCloseCancelExecution: an operation run over
// graphql-transport-ws has its context ended when the client completes
// (stops) it, and when the client closes the socket.
func TestWebSocket_StopAndCloseCancelExecution(t *testing.T) {
	for _, how := range []string{"complete", "close"} {
		t.Run(how, func(t *testing.T) {
			st := &blockingSearch{Store: openTestStore(t, filepath.Join(t.TempDir(), "confab.db")), started: make(chan struct{}), cancelled: make(chan struct{})}
			ts := newTestServer(t, Config{}, st)
			token := signUpAndIn(t, ts)
			_, out := postGraphQLRaw(t, ts, token, `{"query":"mutation { createConversation(input: {participants: []}) { conversationId } }"}`)
			conv, _ := out["data"].(map[string]any)["createConversation"].(map[string]any)["conversationId"].(string)
			if conv == "" {
				t.Fatalf("createConversation: %v", out)
			}
			d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
			ws, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL(), "http")+"/graphql", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			ws.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]string{"Authorization": token}})
			var ack map[string]any
			if err := ws.ReadJSON(&ack); err != nil || ack["type"] != "connection_ack" {
				t.Fatalf("connection_init: %v %v", ack, err)
			}
			ws.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
				"query": fmt.Sprintf(`{ searchMessages(conversationId: %q, searchTerm: "a") { seq } }`, conv)}})
			select {
			case <-st.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the search did not start")
			}
			if how == "complete" {
				ws.WriteJSON(map[string]any{"id": "1", "type": "complete"})
			} else {
				ws.Close()
			}
			select {
			case <-st.cancelled:
			case <-time.After(10 * time.Second):
				t.Fatalf("the search's context did not end on %s", how)
			}
		})
	}
}
