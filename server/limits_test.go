package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/prometheus/client_golang/prometheus"
)

// testServer is the whole server on 127.0.0.1:0 over SQLite and the
// in-process broker, its logs kept for inspection.
type testServer struct {
	*Server
	auth  *auth.Service
	logMu sync.Mutex
	logs  bytes.Buffer // guarded by logMu
}

func (ts *testServer) Write(p []byte) (int, error) {
	ts.logMu.Lock()
	defer ts.logMu.Unlock()
	return ts.logs.Write(p)
}

func (ts *testServer) logText() string {
	ts.logMu.Lock()
	defer ts.logMu.Unlock()
	return ts.logs.String()
}

func newTestServer(t *testing.T, cfg Config, st confab.Store) *testServer {
	t.Helper()
	dir := t.TempDir()
	if st == nil {
		st = openTestStore(t, filepath.Join(dir, "confab.db"))
	}
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, authTestKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(st, auth.Config{KeyFile: keyFile, LoginsPerMinute: -1, SignupsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	svc := chat.New(st, br, chat.Config{})
	t.Cleanup(svc.Close)
	ts := &testServer{auth: a}
	cfg.Addr = "127.0.0.1:0"
	ts.Server = New(cfg, svc, a, st, br, prometheus.NewRegistry(), slog.New(slog.NewJSONHandler(ts, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := ts.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ts.Close(ctx)
	})
	return ts
}

// rawRequest dials the server and sends head (request line and headers)
// and then body, which may be shorter than the Content-Length it claims.
func rawRequest(t *testing.T, s *Server, head, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte(head + "\r\n" + body)); err != nil {
		t.Fatal(err)
	}
	return c
}

// readStatus reads the response's status, failing if none comes within
// wait.
func readStatus(t *testing.T, c net.Conn, wait time.Duration) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", wait, err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

func head(path string, contentLength int, extra ...string) string {
	h := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, contentLength)
	for _, e := range extra {
		if e == "" {
			continue
		}
		h += e + "\r\n"
	}
	return h
}

// TestSlowBody_NoTokenAnsweredBeforeBody: a POST /graphql without a valid
// token is refused from its headers; the server never waits for its body.
func TestSlowBody_NoTokenAnsweredBeforeBody(t *testing.T) {
	ts := newTestServer(t, Config{ReadTimeout: time.Minute}, nil)
	for _, auth := range []string{"", "Authorization: forged.jwt.token"} {
		c := rawRequest(t, ts.Server, head("/graphql", 1000, auth), `{"query":`)
		if status, _ := readStatus(t, c, 5*time.Second); status != http.StatusUnauthorized {
			t.Errorf("%q: status %d, want 401", auth, status)
		}
	}
}

// TestSlowBody_TimesOut: a body that stops arriving is cut off after
// ReadTimeout, on /auth and on /graphql with a valid token.
func TestSlowBody_TimesOut(t *testing.T) {
	ts := newTestServer(t, Config{ReadTimeout: 300 * time.Millisecond}, nil)
	token := signUpAndIn(t, ts)
	for _, h := range []string{head("/auth/login", 1000), head("/graphql", 1000, "Authorization: "+token)} {
		start := time.Now()
		c := rawRequest(t, ts.Server, h, `{"email":`)
		status, _ := readStatus(t, c, 10*time.Second)
		if status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", strings.Fields(h)[1], status)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: answered after %v", strings.Fields(h)[1], took)
		}
	}
}

// TestRequestsPerAddress: one address may hold MaxRequestsPerAddress
// unfinished requests; the next is answered 429 with a JSON error at
// once, and a slot frees when a request ends.
func TestRequestsPerAddress(t *testing.T) {
	ts := newTestServer(t, Config{ReadTimeout: time.Minute, MaxRequestsPerAddress: 3}, nil)
	var held []net.Conn
	for range 3 {
		held = append(held, rawRequest(t, ts.Server, head("/auth/login", 1000), `{"email":`))
	}
	waitFor(t, func() bool { return ts.inflight.count("127.0.0.1") == 3 })

	c := rawRequest(t, ts.Server, head("/auth/login", 2), `{}`)
	status, body := readStatus(t, c, 5*time.Second)
	var out struct {
		Errors []struct{ ErrorType, Message string }
	}
	if status != http.StatusTooManyRequests || json.Unmarshal([]byte(body), &out) != nil || len(out.Errors) != 1 || out.Errors[0].Message == "" {
		t.Fatalf("4th request: %d %s; want 429 with a JSON error", status, body)
	}

	held[0].Close()
	waitFor(t, func() bool { return ts.inflight.count("127.0.0.1") == 2 })
	c = rawRequest(t, ts.Server, head("/auth/login", 2), `{}`)
	if status, body := readStatus(t, c, 5*time.Second); status == http.StatusTooManyRequests {
		t.Fatalf("after one ended: %d %s", status, body)
	}
}

// waitFor polls cond (state kept by the server, no event to wait on)
// until it holds, for at most 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signUpAndIn creates a user through the accounts service and returns an
// access token.
func signUpAndIn(t *testing.T, ts *testServer) string {
	t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("u%d@example.com", time.Now().UnixNano())
	if _, err := ts.auth.SignUp(ctx, auth.SignUpInput{Email: email, Password: "Passw0rd-1"}, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	tok, err := ts.auth.Login(ctx, email, "Passw0rd-1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}
