package beforesend_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/notify/beforesend"
	"github.com/confab-chat/confab/store/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// endpoint answers a before-send call by answer, given the request.
func endpoint(t *testing.T, answer func(w http.ResponseWriter, r beforesend.Request)) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var r beforesend.Request
		b, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(b, &r); err != nil || r.Type != beforesend.EventType {
			t.Errorf("request %s: %v", b, err)
		}
		if r.Data.Content == "hang" {
			select { // past the hook's timeout, until the test ends
			case <-release:
			case <-req.Context().Done():
			}
			return
		}
		answer(w, r)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL
}

// service is a chat service on SQLite with the hook, a user and a
// conversation of theirs.
func service(t *testing.T, cfg beforesend.Config) (*chat.Service, confab.Store, confab.Identity, string) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	hook, err := beforesend.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc := chat.New(st, br, chat.Config{SendsPerSecond: -1, ConversationsPerMinute: -1}, chat.WithBeforeSend(hook))
	t.Cleanup(svc.Close)
	ann := confab.Identity{UserID: "u-ann", Username: "ann", Email: "ann@example.com"}
	if err := st.InsertAccount(t.Context(), &confab.Account{User: confab.User{UserID: ann.UserID, Username: "ann", Email: ann.Email, CreatedAt: time.Now().UTC()}}); err != nil {
		t.Fatal(err)
	}
	c, err := svc.CreateConversation(t.Context(), ann, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc, st, ann, c.ConversationID
}

func answerJSON(w http.ResponseWriter, r beforesend.Response) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(r)
}

// policy is the test endpoint's rule: "darn" is rewritten, "spam" is
// rejected, anything else allowed (204).
func policy(w http.ResponseWriter, r beforesend.Request) {
	switch {
	case strings.Contains(r.Data.Content, "spam"):
		answerJSON(w, beforesend.Response{Action: "reject", Reason: "No spam here."})
	case strings.Contains(r.Data.Content, "darn"):
		answerJSON(w, beforesend.Response{Action: "rewrite", Content: strings.ReplaceAll(r.Data.Content, "darn", "d**n")})
	case r.Data.Content == "broken":
		w.WriteHeader(http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func TestHook_BeforeSend(t *testing.T) {
	send := func(svc *chat.Service, who confab.Identity, convID, content string) (*confab.Message, error) {
		return svc.SendMessage(context.Background(), who, chat.SendMessageInput{ConversationID: convID, Content: content})
	}
	stored := func(t *testing.T, st confab.Store, convID string) []string {
		t.Helper()
		ms, err := st.ListMessages(t.Context(), convID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.Content)
		}
		return out
	}
	tests := []struct {
		name     string
		fail     string
		content  string
		wantCode confab.Code // "" for a send that succeeds
		wantText string      // the stored content, or a part of the error message
	}{
		{"OK", "open", "hello", "", "hello"},
		{"Rewrite", "closed", "darn it", "", "d**n it"},
		{"ErrRejected", "open", "buy spam", confab.CodeInvalid, "The message was rejected: No spam here."},
		{"TimeoutFailOpen", "open", "hang", "", "hang"},
		{"TimeoutFailClosed", "closed", "hang", confab.CodeUnavailable, "could not be checked"},
		{"BrokenFailOpen", "open", "broken", "", "broken"},
		{"BrokenFailClosed", "closed", "broken", confab.CodeUnavailable, "could not be checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var failed atomic.Int64
			svc, st, ann, convID := service(t, beforesend.Config{URL: endpoint(t, policy), Fail: tt.fail, Timeout: 200 * time.Millisecond,
				Failed: func() { failed.Add(1) }})
			start := time.Now()
			m, err := send(svc, ann, convID, tt.content)
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("send took %v: the timeout is not hard", took)
			}
			if tt.wantCode != "" {
				if confab.ErrorCode(err) != tt.wantCode || !strings.Contains(confab.ErrorMessage(err), tt.wantText) {
					t.Fatalf("send = %v (%q), want %s with %q", err, confab.ErrorMessage(err), tt.wantCode, tt.wantText)
				}
				if got := stored(t, st, convID); len(got) != 0 {
					t.Fatalf("stored %v after a refused send, want nothing", got)
				}
				return
			}
			if err != nil || m.Content != tt.wantText {
				t.Fatalf("send = %+v, %v; want content %q", m, err, tt.wantText)
			}
			if got := stored(t, st, convID); len(got) != 1 || got[0] != tt.wantText {
				t.Fatalf("stored %v, want [%q]", got, tt.wantText)
			}
			wantFailed := int64(0)
			if tt.content == "hang" || tt.content == "broken" {
				wantFailed = 1
			}
			if failed.Load() != wantFailed {
				t.Fatalf("failures counted = %d, want %d", failed.Load(), wantFailed)
			}
		})
	}
}

func TestNew_Err(t *testing.T) {
	for name, cfg := range map[string]beforesend.Config{
		"NoScheme":  {URL: "example.com/hook"},
		"FTP":       {URL: "ftp://example.com/hook"},
		"Mode":      {URL: "http://127.0.0.1/hook", Fail: "sometimes"},
		"BadSecret": {URL: "http://127.0.0.1/hook", Secret: "plain"},
	} {
		if _, err := beforesend.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}
