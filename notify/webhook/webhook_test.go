package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/webhook"
	"github.com/confab-chat/confab/store/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// received is one request a test receiver got.
type received struct {
	id, timestamp, signature string
	body                     []byte
	status                   int // what the receiver answered
}

// receiver is an HTTP endpoint on 127.0.0.1 that answers with status(n)
// for its n-th request (1-based) and sends every request on got.
type receiver struct {
	*httptest.Server
	n   atomic.Int64
	got chan received
}

func newReceiver(t *testing.T, status func(n int64) int) *receiver {
	t.Helper()
	r := &receiver{got: make(chan received, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		code := status(r.n.Add(1))
		w.WriteHeader(code)
		r.got <- received{req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body, code}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case g := <-r.got:
		return g
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook request within 10s")
		return received{}
	}
}

// verify checks a request the way docs/webhooks.md tells a receiver to,
// written from that page only: strip "whsec_", base64-decode the rest as
// the key, HMAC-SHA256 "<webhook-id>.<webhook-timestamp>.<body>", base64,
// and compare with each space-separated "v1,<sig>" of webhook-signature.
func verify(secret string, r received, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(r.timestamp, 10, 64)
	if err != nil {
		return err
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %d too far from now", ts)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.id + "." + r.timestamp + "." + string(r.body)))
	want := mac.Sum(nil)
	for _, s := range strings.Fields(r.signature) {
		v, sig, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no valid v1 signature in %q", r.signature)
}

type env struct {
	t    *testing.T
	st   *sqlite.Store
	ctx  context.Context
	user *confab.User
	conv *confab.Conversation
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{t: t, st: st, ctx: t.Context()}
}

func (e *env) addWebhook(url string, events ...confab.OutboxEvent) *confab.Webhook {
	e.t.Helper()
	w := &confab.Webhook{WebhookID: fmt.Sprintf("wh-%d", time.Now().UnixNano()), URL: url, Events: events, Secret: webhook.NewSecret(), CreatedAt: time.Now()}
	if err := e.st.InsertWebhook(e.ctx, w); err != nil {
		e.t.Fatal(err)
	}
	return w
}

// send creates a user and a conversation on first use, then appends a
// message: the store writes its events to the outbox.
func (e *env) send(content string) *confab.Message {
	e.t.Helper()
	now := time.Now().UTC()
	if e.user == nil {
		e.user = &confab.User{UserID: "u-ann", Username: "ann", Email: "ann@example.com", CreatedAt: now}
		if err := e.st.InsertAccount(e.ctx, &confab.Account{User: *e.user}); err != nil {
			e.t.Fatal(err)
		}
		e.conv = &confab.Conversation{ConversationID: "c-1", CreatedBy: e.user.UserID, CreatedAt: now, Members: []confab.Member{{UserID: e.user.UserID, JoinedAt: now}}}
		if err := e.st.InsertConversation(e.ctx, e.conv); err != nil {
			e.t.Fatal(err)
		}
	}
	m := &confab.Message{MessageID: fmt.Sprintf("m-%d", now.UnixNano()), ConversationID: e.conv.ConversationID, UserID: e.user.UserID,
		Content: content, MessageType: confab.MessageText, CreatedAt: now}
	if _, err := e.st.AppendMessage(e.ctx, m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) worker(ch *webhook.Channel, owner string, delivered func(string, string)) *notify.Worker {
	e.t.Helper()
	w, err := notify.Open(e.st, notify.Config{Owner: owner, Poll: 10 * time.Millisecond, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		MaxAttempts: 50, Delivered: delivered}, ch)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(w.Close)
	return w
}

func TestChannel_Deliver(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		r := newReceiver(t, func(int64) int { return http.StatusNoContent })
		w := e.addWebhook(r.URL, confab.OutboxMessageSent, confab.OutboxConversationCreated)
		m := e.send("hello")
		e.worker(webhook.New(e.st, webhook.Config{}), "node-a", nil)

		var types []string
		var sent webhook.Body
		for range 2 {
			g := r.next(t)
			if err := verify(w.Secret, g, time.Now()); err != nil {
				t.Fatalf("signature: %v", err)
			}
			var b webhook.Body
			if err := json.Unmarshal(g.body, &b); err != nil {
				t.Fatalf("body %s: %v", g.body, err)
			}
			if b.ID != g.id {
				t.Errorf("body id = %q, webhook-id %q; want the same", b.ID, g.id)
			}
			types = append(types, b.Type)
			if b.Type == "message.sent" {
				sent = b
			}
		}
		slices.Sort(types) // deliveries run concurrently: no order is promised
		if strings.Join(types, " ") != "conversation.created message.sent" {
			t.Fatalf("types = %v, want conversation.created and message.sent (user.created is not subscribed)", types)
		}
		var d confab.MessageData
		if err := json.Unmarshal(sent.Data, &d); err != nil || d.MessageID != m.MessageID || d.Content != "hello" || d.ConversationID != "c-1" || d.UserID != "u-ann" {
			t.Fatalf("message.sent data = %+v (%v), want the message", d, err)
		}
	})
	t.Run("ErrTamperedFailsVerification", func(t *testing.T) {
		id, ts, body := "evt_1", time.Now().Unix(), []byte(`{"a":1}`)
		secret := webhook.NewSecret()
		sig, err := webhook.Sign(secret, id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		ok := received{id: id, timestamp: strconv.FormatInt(ts, 10), signature: sig, body: body}
		if err := verify(secret, ok, time.Now()); err != nil {
			t.Fatalf("untouched: %v", err)
		}
		for name, r := range map[string]received{
			"body":   {id: id, timestamp: ok.timestamp, signature: sig, body: []byte(`{"a":2}`)},
			"id":     {id: "evt_2", timestamp: ok.timestamp, signature: sig, body: body},
			"ts":     {id: id, timestamp: strconv.FormatInt(ts+1, 10), signature: sig, body: body},
			"secret": {id: id, timestamp: ok.timestamp, signature: sig, body: body},
		} {
			s := secret
			if name == "secret" {
				s = webhook.NewSecret()
			}
			if verify(s, r, time.Now()) == nil {
				t.Errorf("tampered %s verified", name)
			}
		}
	})
	t.Run("FailsThenSucceeds", func(t *testing.T) {
		const failures = 4
		e := newEnv(t)
		r := newReceiver(t, func(n int64) int {
			if n <= failures {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		w := e.addWebhook(r.URL, confab.OutboxMessageSent)
		settled := make(outcomes, 100)
		e.send("again and again")
		e.worker(webhook.New(e.st, webhook.Config{}), "node-a", settled.record)
		var id string
		for i := 1; i <= failures+1; i++ {
			g := r.next(t)
			if err := verify(w.Secret, g, time.Now()); err != nil {
				t.Fatalf("attempt %d: %v", i, err)
			}
			if id == "" {
				id = g.id
			}
			if g.id != id {
				t.Fatalf("attempt %d has webhook-id %q, the first had %q; retries keep the id", i, g.id, id)
			}
		}
		var got []string
		for len(got) == 0 || got[len(got)-1] == "retry" {
			got = append(got, settled.wait(t))
		}
		if want := strings.Repeat("retry ", failures) + "ok"; strings.Join(got, " ") != want {
			t.Fatalf("outcomes = %v, want %s", got, want)
		}
		if d := delivery(t, e.st); !d.Done || d.Attempts != failures+1 || !strings.Contains(d.LastError, "503") {
			t.Fatalf("delivery = %+v; want done at attempt %d, the last error kept", d, failures+1)
		}
		select {
		case g := <-r.got:
			t.Fatalf("delivered again after a success: %s", g.id)
		default:
		}
		hooks, _ := e.st.ListWebhooks(e.ctx)
		if hooks[0].Failures != 0 {
			t.Fatalf("failures after the success = %d, want 0", hooks[0].Failures)
		}
	})
	t.Run("ErrDisabledAfterFailures", func(t *testing.T) {
		const disableAfter = 3
		e := newEnv(t)
		r := newReceiver(t, func(int64) int { return http.StatusInternalServerError })
		e.addWebhook(r.URL, confab.OutboxMessageSent)
		var disabled atomic.Int64
		settled := make(outcomes, 100)
		e.send("into the void")
		e.worker(webhook.New(e.st, webhook.Config{DisableAfter: disableAfter, Disabled: func() { disabled.Add(1) }}), "node-a", settled.record)
		for settled.wait(t) != "dead" {
		}
		d := delivery(t, e.st)
		if !d.Dead || !strings.Contains(d.LastError, "disabled") || d.Attempts != disableAfter+1 {
			t.Fatalf("dead delivery = %+v; want given up as disabled at attempt %d", d, disableAfter+1)
		}
		hooks, _ := e.st.ListWebhooks(e.ctx)
		if hooks[0].DisabledAt == nil || hooks[0].Failures != disableAfter || disabled.Load() != 1 {
			t.Fatalf("webhook = %+v, disabled metric %d; want disabled after %d failures, counted once", hooks[0], disabled.Load(), disableAfter)
		}
		if n := r.n.Load(); n != disableAfter {
			t.Fatalf("requests = %d, want %d (none once disabled)", n, disableAfter)
		}
	})
}

// outcomes collects the worker's settled deliveries (Config.Delivered),
// called after the store recorded each.
type outcomes chan string

func (o outcomes) record(_, outcome string) { o <- outcome }

// wait returns the next outcome.
func (o outcomes) wait(t *testing.T) string {
	t.Helper()
	select {
	case got := <-o:
		return got
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery settled within 10s")
		return ""
	}
}

// delivery returns the webhook delivery entry of the store (the tests
// make one).
func delivery(t *testing.T, st *sqlite.Store) *confab.OutboxEntry {
	t.Helper()
	for id := int64(1); id < 20; id++ {
		d, err := st.GetOutboxEntry(t.Context(), id)
		if err == nil && d.Channel == confab.ChannelWebhook {
			return d
		}
	}
	t.Fatal("no webhook delivery in the outbox")
	return nil
}
