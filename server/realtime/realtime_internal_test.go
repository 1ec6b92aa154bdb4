package realtime

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The package's own tests drive Conn and Hub directly over real loopback
// WebSockets, with a plain-text protocol and no executor, so that each
// mechanism (the write queue, keep-alives, the end of a connection) is
// tested on its own. env_test.go has the end-to-end tests.

// waitTimeout bounds every wait for something that must happen.
const waitTimeout = 10 * time.Second

// textProto renders frames as plain text: "<id> <payload>", "<id>
// complete", "<id> error <message>".
type textProto struct{}

func (textProto) Name() string                         { return "text" }
func (textProto) Payload(r *graphql.Response) []byte   { return append([]byte(nil), r.Data...) }
func (textProto) NextFrame(id string, p []byte) []byte { return []byte(id + " " + string(p)) }
func (textProto) Complete(id string) []byte            { return []byte(id + " complete") }
func (textProto) KeepAlive() []byte                    { return nil }
func (textProto) Error(id string, errs gqlerror.List) []byte {
	return []byte(id + " error " + errs[0].Message)
}

// testHub is a Hub behind a loopback HTTP server whose handler upgrades
// every request and hands the server side of each connection to the test.
type testHub struct {
	*Hub
	url   string
	conns chan *Conn // the server side of each connection, in dial order
}

// newTestHub starts the hub; frames from clients are passed to handle
// (nil: ignored). Cleanup shuts the hub down, then the server.
func newTestHub(t *testing.T, cfg Config, handle func(c *Conn, frame []byte) error) *testHub {
	t.Helper()
	cfg.Authenticate = func(context.Context, string) (confab.Identity, error) {
		return confab.Identity{}, errors.New("realtime test: no authentication")
	}
	th := &testHub{Hub: NewHub(cfg), conns: make(chan *Conn, 64)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := th.Upgrade(w, r, textProto{}, "")
		if err != nil {
			return
		}
		th.conns <- c
		c.Run(func(frame []byte) error {
			if handle == nil {
				return nil
			}
			return handle(c, frame)
		})
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		th.Shutdown(ctx.Done())
		if n := th.Len(""); n != 0 {
			t.Errorf("%d connections still live after Shutdown", n)
		}
	})
	th.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return th
}

// dial connects with d (nil: the default dialer) and returns the client's
// end and the server's.
func (th *testHub) dial(t *testing.T, d *websocket.Dialer) (*websocket.Conn, *Conn) {
	t.Helper()
	if d == nil {
		d = &websocket.Dialer{}
	}
	d.HandshakeTimeout = waitTimeout
	ws, _, err := d.Dial(th.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	select {
	case c := <-th.conns:
		return ws, c
	case <-time.After(waitTimeout):
		t.Fatal("the server did not hand over the connection")
		return nil, nil
	}
}
