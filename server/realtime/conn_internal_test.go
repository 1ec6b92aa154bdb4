package realtime

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// streamExec is a GraphExecutor whose every operation is a subscription
// to the root field "onTest" that starts at once and never produces.
type streamExec struct{}

func (*streamExec) CreateOperationContext(context.Context, *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	return &graphql.OperationContext{Operation: &ast.OperationDefinition{
		Operation:    ast.Subscription,
		SelectionSet: ast.SelectionSet{&ast.Field{Name: "onTest"}},
	}}, nil
}

func (*streamExec) DispatchOperation(ctx context.Context, _ *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	confab.StreamHooksFrom(ctx).Started(func() {})
	return func(context.Context) *graphql.Response { return nil }, ctx
}

func (*streamExec) DispatchError(_ context.Context, errs gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: errs}
}

// TestConn_StopRacingDispatch ends an operation with Stop before, after
// and while its dispatch runs: whatever the order, the operation is gone,
// its context cancelled (its stream stops), it is not counted as a live
// subscription, and its start ack (AppSync's start_ack) never follows the
// Complete that answered the stop.
func TestConn_StopRacingDispatch(t *testing.T) {
	th := newTestHub(t, Config{}, nil)
	ws, c := th.dial(t, nil)
	exec := &streamExec{}
	params := &graphql.RawParams{Query: "subscription { onTest }"}
	tests := []struct {
		name string
		run  func(dispatch, stop func())
	}{
		{"StopFirst", func(dispatch, stop func()) { stop(); dispatch() }},
		{"DispatchFirst", func(dispatch, stop func()) { dispatch(); stop() }},
		{"Concurrent", func(dispatch, stop func()) {
			var wg sync.WaitGroup
			wg.Go(stop)
			dispatch()
			wg.Wait()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 50 {
				o, ctx, err := c.register("s")
				if err != nil {
					t.Fatal(err)
				}
				stopped := false
				tt.run(
					func() { c.dispatch(ctx, o, params, exec, false, []byte("s ack")) },
					func() {
						// As the protocols answer a stop.
						if stopped = c.Stop("s"); stopped {
							c.Send(textProto{}.Complete("s"))
						}
					},
				)
				if !stopped {
					t.Fatalf("run %d: Stop = false for an active operation", i)
				}
				if c.Has("s") {
					t.Fatalf("run %d: operation still active after Stop", i)
				}
				if ctx.Err() == nil {
					t.Fatalf("run %d: operation context not cancelled", i)
				}
				if n := th.Subscriptions()["onTest"]; n != 0 {
					t.Fatalf("run %d: live onTest subscriptions = %d, want 0", i, n)
				}
				c.Send([]byte("end of run"))
				completed := false
				for {
					ws.SetReadDeadline(time.Now().Add(waitTimeout))
					_, f, err := ws.ReadMessage()
					if err != nil {
						t.Fatalf("run %d: read: %v", i, err)
					}
					switch string(f) {
					case "s complete":
						completed = true
					case "s ack":
						if completed {
							t.Fatalf("run %d: start ack after the Complete of a stopped operation", i)
						}
					}
					if string(f) == "end of run" {
						break
					}
				}
			}
		})
	}
}

// TestConn_FinishOnce ends connections from every side at once (the client
// goes, the server closes from several goroutines, a pong arrives): each
// connection finishes exactly once, so its presence is released once and
// it leaves every count of the Hub.
func TestConn_FinishOnce(t *testing.T) {
	var connects, releases atomic.Int64
	th := newTestHub(t, Config{Connect: func(context.Context, string) func() {
		connects.Add(1)
		return func() { releases.Add(1) }
	}}, nil)
	const conns = 20
	for i := range conns {
		ws, c := th.dial(t, nil)
		if err := c.Authenticated(confab.Identity{UserID: "u"}, func() {}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() { ws.WriteControl(websocket.PongMessage, nil, time.Now().Add(waitTimeout)) })
		wg.Go(func() { ws.Close() })
		for range 3 {
			wg.Go(func() { c.Close(websocket.CloseNormalClosure, "") })
		}
		wg.Wait()
		select {
		case <-c.Done():
		case <-time.After(waitTimeout):
			t.Fatalf("connection %d did not finish", i)
		}
	}
	if got := releases.Load(); got != conns || connects.Load() != conns {
		t.Fatalf("presence: %d connects, %d releases, want %d each", connects.Load(), got, conns)
	}
	th.mu.Lock()
	defer th.mu.Unlock()
	if len(th.conns) != 0 || len(th.byUser) != 0 || len(th.byAddr) != 0 {
		t.Fatalf("hub counts after every connection finished: %d conns, byUser %v, byAddr %v; want none", len(th.conns), th.byUser, th.byAddr)
	}
}
