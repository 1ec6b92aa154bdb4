package admin_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/broker/inproc"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/store/sqlite"
	"github.com/google/uuid"
	"go.uber.org/goleak"
)

// TestMain checks that the chat services the tests start leave no
// goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

// clock is a settable clock for the chat service (when messages are sent).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) reset()          { c.set(time.Time{}) }
func (c *clock) nowOrReal() func() time.Time {
	return func() time.Time {
		if t := c.now(); !t.IsZero() {
			return t
		}
		return time.Now()
	}
}

// keyPEM is one RSA key for the package's tests.
var keyPEM = sync.OnceValue(func() []byte {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
})

// env is an admin Service over real SQLite, the in-process broker, and the
// real chat and account services.
type env struct {
	st     confab.Store
	broker confab.Broker
	chat   *chat.Service
	auth   *auth.Service
	svc    *admin.Service
	clock  *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "confab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	br := inproc.New()
	t.Cleanup(func() { br.Close() })
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, keyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(st, auth.Config{KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	c := chat.New(st, br, chat.Config{SendsPerSecond: -1}, chat.WithClock(clk.nowOrReal()))
	t.Cleanup(c.Close)
	return &env{st: st, broker: br, chat: c, auth: a, svc: admin.New(st, c, a), clock: clk}
}

// user creates an account (with a password hash nobody's password
// matches: signing in is not what these tests are about).
func (e *env) user(t *testing.T, name string) confab.Identity {
	t.Helper()
	u := confab.User{UserID: uuid.NewString(), Username: name, Email: name + "@example.com", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := e.st.InsertAccount(ctx, &confab.Account{User: u, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"}); err != nil {
		t.Fatal(err)
	}
	return confab.Identity{UserID: u.UserID, Username: name, Email: u.Email}
}

// admin creates an account and makes it a server administrator from the
// command line, as `confab admin grant` does.
func (e *env) admin(t *testing.T, name string) confab.Identity {
	t.Helper()
	id := e.user(t, name)
	if _, err := e.svc.SetAdmin(ctx, admin.CommandLine(), id.UserID, true); err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) conversation(t *testing.T, creator confab.Identity, others ...confab.Identity) *confab.Conversation {
	t.Helper()
	var ids []string
	for _, o := range others {
		ids = append(ids, o.UserID)
	}
	name := "team"
	c, err := e.chat.CreateConversation(ctx, creator, &name, ids)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) send(t *testing.T, from confab.Identity, convID, content string) *confab.Message {
	t.Helper()
	m, err := e.chat.SendMessage(ctx, from, chat.SendMessageInput{ConversationID: convID, Content: content})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// auditActions returns the actions of the audit log about userID (all
// when ""), newest first.
func (e *env) auditActions(t *testing.T, userID string) []confab.AuditAction {
	t.Helper()
	list, err := e.st.ListAudit(ctx, confab.AuditFilter{UserID: userID, Limit: confab.MaxAuditPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	var out []confab.AuditAction
	for _, a := range list {
		out = append(out, a.Action)
	}
	return out
}

func wantCode(t *testing.T, err error, want confab.Code) {
	t.Helper()
	if got := confab.ErrorCode(err); got != want {
		t.Fatalf("error = %v (%s), want %s", err, got, want)
	}
}

func ptr[T any](v T) *T { return &v }
