package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"unique"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/errortype"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Operations: Start registers one and dispatches it on a short-lived
// goroutine; a subscription then has no goroutine (its stream calls wake,
// which queues pulls for the writer); end, Stop and Finish end it, once.

// op is an active operation.
type op struct {
	id      string
	ctx     context.Context
	cancel  context.CancelFunc
	stream  bool                    // set by the Started hook
	field   string                  // guarded by Conn.mu: the root field, once counted as a live subscription
	next    graphql.ResponseHandler // guarded by Conn.mu until set; then read by the writer only
	pending int                     // guarded by Conn.mu: wakes before next was set
	ended   bool                    // guarded by Conn.mu
	queued  []any                   // guarded by Conn.mu: the items Wake announced and no pull has taken, oldest first (nil: the close)
	skip    func()                  // set by the Started hook: takes the oldest item without rendering it
	ready   func()                  // set by the Ready hook (nil if the stream has none): called before each o.next
	share   unique.Handle[string]   // set before next: the key under which this subscription's results are shared (zero for none)
}

// Has reports whether operation id is active.
func (c *Conn) Has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.ops[id]
	return ok
}

// pull renders the next result of o. It runs on the writer, which is the
// only caller of o.next; a Wake was counted for every item, so the handler
// finds one waiting and does not block.
//
// A shared subscription (see Config.SharedFields) first looks for the item
// it is about to render in the hub's renders: another subscription with the
// same document and variables may have rendered that very item already;
// then the item is skipped on the channel and that payload is framed.
func (c *Conn) pull(o *op) []byte {
	c.mu.Lock()
	ended := o.ended
	var it any
	if len(o.queued) > 0 {
		it = o.queued[0]
		o.queued[0] = nil
		o.queued = o.queued[1:]
	}
	c.mu.Unlock()
	if ended {
		return nil
	}
	shared := o.share != noShare && it != nil
	if shared {
		if payload := c.hub.renders.get(it, o.share); payload != nil {
			o.skip()
			if c.hub.cfg.OnShared != nil {
				c.hub.cfg.OnShared(o.field)
			}
			return c.proto.NextFrame(o.id, payload)
		}
	}
	if o.ready != nil {
		o.ready() // the stream puts the item on its channel of one
	}
	resp := o.next(o.ctx)
	if resp == nil { // the stream closed: the subscription is over
		if c.end(o.id, o) {
			return c.proto.Complete(o.id)
		}
		return nil
	}
	payload := c.proto.Payload(resp)
	if shared && len(resp.Errors) == 0 {
		c.hub.renders.put(it, o.share, payload)
	}
	return c.proto.NextFrame(o.id, payload)
}

// end removes operation id if it is still o, cancelling it. It reports
// whether it did.
func (c *Conn) end(id string, o *op) bool {
	c.mu.Lock()
	cur, ok := c.ops[id]
	if !ok || (o != nil && cur != o) {
		c.mu.Unlock()
		return false
	}
	delete(c.ops, id)
	cur.ended = true
	field := cur.field
	c.mu.Unlock()
	if field != "" {
		c.hub.countSub(field, -1)
	}
	cur.cancel()
	return true
}

// Active returns the ids of the active operations.
func (c *Conn) Active() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.ops))
	for id := range c.ops {
		ids = append(ids, id)
	}
	return ids
}

// Stop ends operation id at the client's request. Unknown ids are ignored
// (both protocols say so). It reports whether the operation was active.
func (c *Conn) Stop(id string) bool { return c.end(id, nil) }

// ErrTooManyOps is returned by Start when the connection has
// MaxSubscriptions active operations.
var ErrTooManyOps = errors.New("realtime: too many operations on this connection")

// ErrDuplicateID is returned by Start when id is already active.
var ErrDuplicateID = errors.New("realtime: operation id already active")

// Start runs an operation for id. Parse and validation failures, and a
// subscription refused at subscribe time, are answered with the protocol's
// Error frame. allowSingle says whether queries and mutations may run
// (graphql-transport-ws: yes, AppSync: no — then onSingle is answered).
// ack, when non-nil, is queued once a subscription has started, before any
// result (AppSync's start_ack); a refused one gets only the Error frame,
// and one stopped while it started gets no ack (never one after the
// Complete that answered the stop).
func (c *Conn) Start(id string, params *graphql.RawParams, exec graphql.GraphExecutor, allowSingle bool, ack []byte) error {
	o, ctx, err := c.register(id)
	if err != nil {
		return err
	}
	// The dispatch (parsing, validation, the resolver's store reads) runs
	// on a short-lived goroutine: on the reader it would grow the stack
	// that every idle connection then keeps. The operation is registered
	// first, so a duplicate id or a "complete" that races it still works.
	go c.dispatch(ctx, o, params, exec, allowSingle, ack)
	return nil
}

// register adds operation id, unless it is active already or the
// connection has MaxSubscriptions, and returns it with its context (the
// caller's identity; cancelled when the operation ends).
func (c *Conn) register(id string) (*op, context.Context, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.ops[id]; dup {
		return nil, nil, ErrDuplicateID
	}
	if len(c.ops) >= c.hub.cfg.MaxSubscriptions {
		return nil, nil, ErrTooManyOps
	}
	ctx, cancel := context.WithCancel(confab.WithIdentity(c.ctx, c.identity))
	o := &op{id: id, cancel: cancel}
	c.ops[id] = o
	return o, ctx, nil
}

// dispatch parses and starts operation o (see Start).
func (c *Conn) dispatch(ctx context.Context, o *op, params *graphql.RawParams, exec graphql.GraphExecutor, allowSingle bool, ack []byte) {
	id := o.id
	params.ReadTime = graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		c.fail(o, errs)
		return
	}
	if opCtx.Operation.Operation != ast.Subscription && !allowSingle {
		c.fail(o, gqlerror.List{{
			Message:    "Queries and mutations are not supported on the real-time endpoint; use POST /graphql.",
			Extensions: map[string]any{"errorType": errortype.UnsupportedOperation, "code": string(confab.CodeInvalid)},
		}})
		return
	}
	if opCtx.Operation.Operation != ast.Subscription {
		// A query or mutation: one result, then complete.
		h, rctx := exec.DispatchOperation(ctx, opCtx)
		resp := h(rctx)
		if c.end(id, o) {
			c.Send(c.proto.NextFrame(id, c.proto.Payload(resp)))
			c.Send(c.proto.Complete(id))
		}
		return
	}

	ctx = confab.WithStreamHooks(ctx, confab.StreamHooks{
		Wake:    func(it any) { c.wake(o, it) },
		Evict:   func(reason string) { go c.Close(websocket.CloseTryAgainLater, reason) },
		Started: func(skip func()) { o.stream, o.skip = true, skip },
		Ready:   func(ready func()) { o.ready = ready },
	})
	h, rctx := exec.DispatchOperation(ctx, opCtx)
	if !o.stream {
		// Refused at subscribe time: h is gqlgen's one-shot error result.
		resp := h(rctx)
		var errs gqlerror.List
		if resp != nil {
			errs = resp.Errors
		}
		if len(errs) == 0 {
			errs = gqlerror.List{{Message: "The subscription could not be started."}}
		}
		c.fail(o, errs)
		return
	}
	releaseSetup(opCtx)
	c.mu.Lock()
	o.ctx = rctx
	o.next = h
	n := o.pending
	o.pending = 0
	startWriter := false
	if !o.ended {
		if ack != nil {
			// Queued in the same critical section that sets o.next and
			// checks o.ended: every result follows it, and a stop's
			// Complete (queued after end) cannot precede it.
			startWriter = c.queueLocked(item{frame: ack})
		}
		o.field = rootField(opCtx.Operation)
		c.hub.countSub(o.field, 1)
		if c.hub.cfg.SharedFields[o.field] {
			o.share = shareKey(c.proto.Name(), params)
		}
	}
	c.mu.Unlock()
	if startWriter {
		go c.write()
	}
	for range n {
		c.enqueue(item{op: o})
	}
}

// noShare is the share key of a subscription that shares nothing.
var noShare unique.Handle[string]

// shareKey is what two subscriptions must have in common to share their
// rendered results: the protocol, the document, the operation name and the
// variables (json.Marshal sorts map keys, so equal variables encode alike).
// It is interned: the subscribers of one conversation with one document
// hold one copy of it, not one each, for as long as they live.
func shareKey(proto string, params *graphql.RawParams) unique.Handle[string] {
	vars, err := json.Marshal(params.Variables)
	if err != nil {
		return noShare // cannot happen for decoded JSON; then nothing is shared
	}
	return unique.Make(proto + "\x00" + params.OperationName + "\x00" + params.Query + "\x00" + string(vars))
}

// releaseSetup drops what gqlgen's operation context holds only to set an
// operation up, once a subscription has started: the subscription keeps
// the context for its whole life, and renders its results with the parsed
// document (shared by every operation with the same text, through the
// query cache), the operation, the coerced variables and the middleware
// alone. Dropped: the query text (the client's own copy), Extensions and
// Headers (the request's), Stats (the complexity extension's figures) and
// the cache of collected fields that setting up filled, which a rendering
// fills again (most subscribers never render: another one's rendering of
// the same event is shared). TestReleaseSetup_Fields fails when gqlgen adds
// a field, to be sorted into kept or dropped here.
func releaseSetup(oc *graphql.OperationContext) {
	*oc = graphql.OperationContext{
		Variables:              oc.Variables,
		OperationName:          oc.OperationName,
		Doc:                    oc.Doc,
		Operation:              oc.Operation,
		DisableIntrospection:   oc.DisableIntrospection,
		RecoverFunc:            oc.RecoverFunc,
		ResolverMiddleware:     oc.ResolverMiddleware,
		RootResolverMiddleware: oc.RootResolverMiddleware,
	}
}

// rootField names an operation by its first root field ("unknown" when it
// has none: validation refuses such documents before this point).
func rootField(op *ast.OperationDefinition) string {
	if len(op.SelectionSet) > 0 {
		if f, ok := op.SelectionSet[0].(*ast.Field); ok {
			return f.Name
		}
	}
	return "unknown"
}

// wake queues one pull of o, or counts it while o is still starting.
func (c *Conn) wake(o *op, it any) {
	c.mu.Lock()
	o.queued = append(o.queued, it)
	if o.next == nil {
		o.pending++
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.enqueue(item{op: o})
}

func (c *Conn) fail(o *op, errs gqlerror.List) {
	if c.end(o.id, o) {
		c.Send(c.proto.Error(o.id, errs))
	}
}
