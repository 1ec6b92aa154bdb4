package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestMain_Limits: over the per-user send budget a send is RATE_LIMITED
// with a retry hint and stores nothing; a user's second connection over
// --max-conns-per-user is closed with 1013 (retry later).
func TestMain_Limits(t *testing.T) {
	a := runMain(t, "--sends-per-second", "2", "--max-conns-per-user", "1")
	ann, bo := a.signUp(t, "ann"), a.signUp(t, "bo")
	cid := a.mustGQL(t, ann.idToken, createConv, map[string]any{"p": []string{bo.userID}})["createConversation"].(map[string]any)["conversationId"].(string)

	for range 4 { // the burst: twice the rate
		a.mustGQL(t, ann.idToken, sendMsg, map[string]any{"c": cid, "t": "hi"})
	}
	status, body := a.gql(t, ann.idToken, sendMsg, map[string]any{"c": cid, "t": "one too many"})
	if status != http.StatusOK || errCode(body) != "RATE_LIMITED" {
		t.Fatalf("fifth send: status %d, body %v; want 200 with RATE_LIMITED", status, body)
	}
	ext := body["errors"].([]any)[0].(map[string]any)["extensions"].(map[string]any)
	if s, _ := ext["retryAfterSeconds"].(float64); s < 1 {
		t.Errorf("extensions %v: want retryAfterSeconds >= 1", ext)
	}
	a.mustGQL(t, bo.idToken, sendMsg, map[string]any{"c": cid, "t": "bo is not limited by ann"})
	last := a.mustGQL(t, bo.idToken, `query($c:ID!){ getConversation(conversationId:$c){ messageCount } }`, map[string]any{"c": cid})
	if n := last["getConversation"].(map[string]any)["messageCount"].(float64); n != 5 {
		t.Errorf("messageCount = %v, want 5 (the refused send stored nothing)", n)
	}

	a.dialGQLWS(t, ann.idToken)
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial(strings.Replace(a.url, "http", "ws", 1)+"/graphql", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": ann.idToken}})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater {
		t.Fatalf("second connection of one user: %v, want close 1013", err)
	}
}

// TestMain_Metrics: /metrics reports what the operations section of the
// README lists, with the values the requests above it imply.
func TestMain_Metrics(t *testing.T) {
	a := runMain(t, "--retention", "720h")
	ann, bo := a.signUp(t, "ann"), a.signUp(t, "bo")
	cid := a.mustGQL(t, ann.idToken, createConv, map[string]any{"p": []string{bo.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	ws := a.dialGQLWS(t, bo.idToken)
	ws.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($c:ID!){ onMessageSent(conversationId:$c){ seq } }`, "variables": map[string]any{"c": cid}}})
	a.waitMetric(t, `confab_realtime_subscriptions{field="onMessageSent"} 1`) // live: every send below is a live event
	for i := range 3 {
		a.mustGQL(t, ann.idToken, sendMsg, map[string]any{"c": cid, "t": "hello"})
		if m := ws.read(); m["type"] != "next" {
			t.Fatalf("event %d: %v", i+1, m)
		}
	}
	if status, body := a.gql(t, ann.idToken, sendMsg, map[string]any{"c": "no-such-conversation", "t": "x"}); errCode(body) != "NOT_FOUND" {
		t.Fatalf("send to a missing conversation: %d %v", status, body)
	}

	text := a.scrape(t)
	for _, want := range []string{
		`confab_graphql_operations_total{code="OK",field="sendMessage",type="mutation"} 3`,
		`confab_graphql_operations_total{code="NOT_FOUND",field="sendMessage",type="mutation"} 1`,
		`confab_graphql_operations_total{code="OK",field="onMessageSent",type="subscription"} 3`,
		`confab_graphql_operation_duration_seconds_count{field="sendMessage"} 4`,
		`confab_http_requests_total{route="POST /graphql",status="200"} 5`, // createConversation and 4 sends
		`confab_http_requests_total{route="POST /auth/signup",status="200"} 2`,
		`confab_http_requests_total{route="POST /auth/login",status="200"} 2`,
		`confab_http_request_duration_seconds_count{route="POST /graphql"} 5`,
		`confab_realtime_connections{protocol="graphql-transport-ws"} 1`,
		`confab_realtime_connections{protocol="appsync"} 0`,
		`confab_realtime_subscriptions{field="onMessageSent"} 1`,
		`confab_messages_stored_total 3`,
		`confab_store_operation_duration_seconds_count{op="AppendMessage"} 3`,
		`confab_store_appends_total 3`,
		`confab_delivery_lag_seconds_count 3`,
		`confab_broker_errors_total 0`,
		`confab_subscribers_evicted_total 0`,
		`confab_retention_purged_total 0`,
		`process_resident_memory_bytes`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	checkDashboard(t, text)
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(text, "confab_"))
	}
}

// checkDashboard checks that every confab metric the sample Grafana
// dashboard charts is in the scraped text (a renamed metric would
// otherwise leave an empty panel).
func checkDashboard(t *testing.T, scraped string) {
	t.Helper()
	dash, err := os.ReadFile("../../deploy/grafana/confab.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	// A vector without a series yet (no store call has failed) has no
	// HELP line; it is registered all the same (see meterStore).
	noSeriesYet := map[string]bool{"confab_store_errors_total": true}
	name := regexp.MustCompile(`\b(confab_[a-z_]+?)(_bucket|_count|_sum)?\b`)
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range name.FindAllStringSubmatch(tg.Expr, -1) {
				if !noSeriesYet[m[1]] && !strings.Contains(scraped, "# HELP "+m[1]+" ") {
					t.Errorf("dashboard panel %q charts %s, which /metrics does not serve", p.Title, m[1])
				}
			}
		}
	}
}

// scrape returns the text of /metrics.
func (a *app) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(a.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// waitMetric polls /metrics until it has line: for states only the
// metrics announce (a subscription going live happens after the subscribe
// frame is answered by nothing).
func (a *app) waitMetric(t *testing.T, line string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(a.scrape(t), line) {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s", line)
		}
		time.Sleep(10 * time.Millisecond) // polling a state, not synchronising with an event
	}
}

// grepLines returns the lines of text that start with prefix.
func grepLines(text, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestMain_BadSettings: a bad flag or CONFAB_ variable stops serve before
// it opens anything, with an error that names the setting.
func TestMain_BadSettings(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"NegativeRetention", []string{"--retention", "-1h"}, nil, "--retention"},
		{"RetentionNotADuration", []string{"--retention", "30 days"}, nil, "retention"},
		{"SendsNotANumber", []string{"--sends-per-second", "lots"}, nil, "sends-per-second"},
		{"ConnsNotANumber", []string{"--max-conns-per-user", "ten"}, nil, "max-conns-per-user"},
		{"UnknownFlag", []string{"--max-connections", "5"}, nil, "max-connections"},
		{"UnknownEnv", nil, []string{"CONFAB_MAX_CONNECTIONS=5"}, "CONFAB_MAX_CONNECTIONS"},
		{"BadEnvValue", nil, []string{"CONFAB_SENDS_PER_SECOND=fast"}, "CONFAB_SENDS_PER_SECOND"},
		{"StrayArgument", []string{"now"}, nil, `"now"`},
		{"PublicURLNotAURL", []string{"--public-url", "chat.example.com"}, nil, "--public-url"},
		{"PublicURLWithQuery", []string{"--public-url", "https://chat.example.com/?a=1"}, nil, "--public-url"},
		{"SelfSignedAndCert", []string{"--tls-self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, nil, "--tls-self-signed"},
		{"CertWithoutKey", []string{"--tls-cert", "c.pem"}, nil, "--tls-key"},
		{"PoolIDWithoutUnderscore", []string{"--user-pool-id", "confab"}, nil, "--user-pool-id"},
		{"AdminKeyWithoutSecret", []string{"--admin-access-key-id", "AKID"}, nil, "--admin-secret-access-key"},
		{"AdminFileAndKey", []string{"--admin-credentials-file", "f", "--admin-access-key-id", "AKID"}, nil, "--admin-credentials-file"},
		{"SMTPWithoutSender", []string{"--smtp-url", "smtp://127.0.0.1:25"}, nil, "--mail-from"},
		{"SMTPNotAURL", []string{"--smtp-url", "mail.example.com", "--mail-from", "a@example.com"}, nil, "--smtp-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for _, kv := range tt.environ {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			var stderr strings.Builder
			m := &Main{Stdout: io.Discard, Stderr: &stderr, Environ: tt.environ,
				Getenv: func(k string) string { return env[k] },
				Ready:  func(string) { t.Error("serve started") }}
			args := append([]string{"serve", "--http", "127.0.0.1:0", "--data", t.TempDir()}, tt.args...)
			err := m.Run(t.Context(), args)
			if err == nil {
				t.Fatal("serve accepted the setting")
			}
			if msg := err.Error() + stderr.String(); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q (stderr %q) does not name %s", err, stderr.String(), tt.want)
			}
		})
	}
}

// TestMain_SharedRendering: subscribers with the same document and
// variables share one rendering of each event; each still gets every
// message once, in order, under its own operation id, and a subscriber
// with another selection set gets its own fields.
func TestMain_SharedRendering(t *testing.T) {
	a := runMain(t, "--sends-per-second", "-1")
	ann, bo := a.signUp(t, "ann"), a.signUp(t, "bo")
	cid := a.mustGQL(t, ann.idToken, createConv, map[string]any{"p": []string{bo.userID}})["createConversation"].(map[string]any)["conversationId"].(string)
	// afterSeq 0: every message arrives whether it was committed before or
	// after the subscription went live (subscribing is asynchronous).
	full := `subscription($c:ID!){ onMessageSent(conversationId:$c, afterSeq:0){ seq content author { username } } }`
	slim := `subscription($c:ID!){ onMessageSent(conversationId:$c, afterSeq:0){ seq } }`
	subs := []struct {
		ws    *wsClient
		id    string
		query string
	}{
		{a.dialGQLWS(t, bo.idToken), "a", full},
		{a.dialGQLWS(t, ann.idToken), "b", full},
		{a.dialGQLWS(t, bo.idToken), "c", slim},
	}
	for _, s := range subs {
		s.ws.send(map[string]any{"id": s.id, "type": "subscribe", "payload": map[string]any{"query": s.query, "variables": map[string]any{"c": cid}}})
	}
	a.mustGQL(t, ann.idToken, sendMsg, map[string]any{"c": cid, "t": "warm-up"})
	for _, s := range subs {
		if m := s.ws.read(); m["type"] != "next" {
			t.Fatalf("subscriber %s: first frame %v", s.id, m)
		}
	}

	const senders, each = 4, 25
	errs := make(chan error, senders)
	for s := range senders {
		go func() {
			for i := range each {
				if status, body := a.gql(t, ann.idToken, sendMsg, map[string]any{"c": cid, "t": fmt.Sprint("m", s, "-", i)}); status != http.StatusOK || body["errors"] != nil {
					errs <- fmt.Errorf("send: %d %v", status, body)
					return
				}
			}
			errs <- nil
		}()
	}
	for range senders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range subs {
		for want := 2; want <= 1+senders*each; want++ {
			m := s.ws.read()
			if m["type"] != "next" || m["id"] != s.id {
				t.Fatalf("subscriber %s: frame %v, want next for %s", s.id, m, s.id)
			}
			msg := m["payload"].(map[string]any)["data"].(map[string]any)["onMessageSent"].(map[string]any)
			if int(msg["seq"].(float64)) != want {
				t.Fatalf("subscriber %s: seq %v, want %d", s.id, msg["seq"], want)
			}
			_, hasContent := msg["content"]
			if hasContent != (s.query == full) {
				t.Fatalf("subscriber %s got %v for its own selection set %q", s.id, msg, s.query)
			}
			if s.query == full {
				if author, _ := msg["author"].(map[string]any); author == nil || !strings.HasPrefix(fmt.Sprint(author["username"]), "ann") {
					t.Fatalf("subscriber %s: author %v", s.id, msg["author"])
				}
			}
		}
	}

	raw := a.scrape(t)
	var shared float64
	for _, l := range strings.Split(raw, "\n") {
		if v, ok := strings.CutPrefix(l, "confab_realtime_shared_results_total "); ok {
			fmt.Sscan(v, &shared)
		}
	}
	// Two of the three subscribers share a document: at most one of them
	// per message is served from the other's rendering (none when both
	// render at the same moment).
	if shared < 1 || shared > 1+senders*each {
		t.Errorf("confab_realtime_shared_results_total = %v, want 1..%d", shared, 1+senders*each)
	}
	if want := fmt.Sprintf(`confab_graphql_operations_total{code="OK",field="onMessageSent",type="subscription"} %d`, 3*(1+senders*each)); !strings.Contains(raw, want) {
		t.Errorf("/metrics lacks %s (shared results count as events too)", want)
	}
}
