package graph

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/vektah/gqlparser/v2/ast"
)

// userCache is a per-operation cache of users, so Message.author on a page
// of messages costs one batched store read instead of one per message.
type userCache struct {
	mu    sync.Mutex
	users map[string]*confab.User // guarded by mu; made on the first write
}

// caches are an operation's userCache and pageCache, in one context value
// with their maps made on first use: a subscription holds them for its
// whole life, and most never render a page or an author.
type caches struct {
	users userCache
	pages pageCache
}

type cachesKey struct{}

// usersOf returns the operation's userCache, nil outside an operation.
func usersOf(ctx context.Context) *userCache {
	if c, _ := ctx.Value(cachesKey{}).(*caches); c != nil {
		return &c.users
	}
	return nil
}

// pagesOf returns the operation's pageCache, nil outside an operation.
func pagesOf(ctx context.Context) *pageCache {
	if c, _ := ctx.Value(cachesKey{}).(*caches); c != nil {
		return &c.pages
	}
	return nil
}

// put caches u under id. Callers hold c.mu.
func (c *userCache) put(id string, u *confab.User) {
	if c.users == nil {
		c.users = make(map[string]*confab.User)
	}
	c.users[id] = u
}

// Loaders is a gqlgen extension that gives every operation its own
// userCache and pageCache.
type Loaders struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = Loaders{}

// ExtensionName implements graphql.HandlerExtension.
func (Loaders) ExtensionName() string { return "ConfabLoaders" }

// Validate implements graphql.HandlerExtension.
func (Loaders) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation implements graphql.OperationInterceptor.
func (Loaders) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, cachesKey{}, new(caches)))
}

// primeAuthors loads the authors of msgs, messages of one conversation, in
// one batch into the operation's cache. A failure is not fatal: authorOf
// then loads one by one. Authors are seen as every member of the
// conversation sees them (chat.Service.Authors), so the cache is right for
// any caller.
func primeAuthors(ctx context.Context, svc *chat.Service, msgs []*confab.Message) {
	c := usersOf(ctx)
	if c == nil || len(msgs) == 0 {
		return
	}
	ids := make([]string, 0, len(msgs))
	seen := make(map[string]bool, len(msgs))
	c.mu.Lock()
	for _, m := range msgs {
		if _, ok := c.users[m.UserID]; !ok && !seen[m.UserID] && m.ConversationID == msgs[0].ConversationID {
			seen[m.UserID] = true
			ids = append(ids, m.UserID)
		}
	}
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	users, err := svc.Authors(ctx, caller(ctx), msgs[0].ConversationID, ids)
	if err != nil {
		return
	}
	c.mu.Lock()
	for _, u := range users {
		c.put(u.UserID, u)
	}
	c.mu.Unlock()
}

// authorOf resolves Message.author from the operation's cache, loading and
// caching it on a miss.
func authorOf(ctx context.Context, svc *chat.Service, m *confab.Message) (*confab.User, error) {
	c := usersOf(ctx)
	if c != nil {
		c.mu.Lock()
		u, ok := c.users[m.UserID]
		c.mu.Unlock()
		if ok {
			return u, nil
		}
	}
	users, err := svc.Authors(ctx, caller(ctx), m.ConversationID, []string{m.UserID})
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var u *confab.User
	if len(users) == 1 {
		u = users[0]
	}
	if c != nil {
		c.mu.Lock()
		c.put(m.UserID, u)
		c.mu.Unlock()
	}
	return u, nil
}

// pageCache remembers the pages of messages an operation resolved (a
// listMessages page, a thread page, search hits), so the caller-dependent
// fields of their messages (Message.reactions, Message.unreadReplies) are
// read once for the whole page, when the first message asks, instead of
// once per message. Message.attachments is read the same way (its links
// are minted for the caller). A message not on a page is read alone.
type pageCache struct {
	mu    sync.Mutex
	pages map[*confab.Message]*page // guarded by mu: each message of a primed page → its page; made on the first write
}

// page is messages of one conversation resolved together, with the batched
// reads made for them.
type page struct {
	msgs []*confab.Message

	mu          sync.Mutex
	reactions   map[int]*batch[map[string][]confab.ReactionCount] // guarded by mu: by users per key
	unread      batch[map[string]int]
	attachments batch[map[string][]*confab.Attachment]
}

// batch is one read shared by every message of a page: the first caller
// makes it, the others wait for its result.
type batch[T any] struct {
	once sync.Once
	val  T
	err  error
}

func (b *batch[T]) get(load func() (T, error)) (T, error) {
	b.once.Do(func() { b.val, b.err = load() })
	return b.val, b.err
}

// primePage primes the operation's caches for msgs: their authors at once
// (primeAuthors), their reactions and unread replies when first asked for.
// Messages of several conversations (search across conversations) form one
// page per conversation.
func primePage(ctx context.Context, svc *chat.Service, msgs []*confab.Message) {
	byConv := make(map[string][]*confab.Message)
	for _, m := range msgs {
		byConv[m.ConversationID] = append(byConv[m.ConversationID], m)
	}
	for _, ms := range byConv {
		primeAuthors(ctx, svc, ms)
	}
	c := pagesOf(ctx)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = make(map[*confab.Message]*page)
	}
	for _, ms := range byConv {
		p := &page{msgs: ms}
		for _, m := range ms {
			c.pages[m] = p
		}
	}
}

// pageOf returns the page m was primed with, or a page of m alone.
func pageOf(ctx context.Context, m *confab.Message) *page {
	if c := pagesOf(ctx); c != nil {
		c.mu.Lock()
		p := c.pages[m]
		c.mu.Unlock()
		if p != nil {
			return p
		}
	}
	return &page{msgs: []*confab.Message{m}}
}

// reactionsOf resolves Message.reactions: one ListReactions for m's page,
// with as many user ids per key as the largest userIds(limit) the
// operation selects under Message.reactions.
func reactionsOf(ctx context.Context, svc *chat.Service, m *confab.Message) ([]*confab.ReactionCount, error) {
	if m.Deleted {
		return []*confab.ReactionCount{}, nil
	}
	n := usersPerKey(ctx)
	p := pageOf(ctx, m)
	p.mu.Lock()
	if p.reactions == nil {
		p.reactions = make(map[int]*batch[map[string][]confab.ReactionCount])
	}
	b := p.reactions[n]
	if b == nil {
		b = new(batch[map[string][]confab.ReactionCount])
		p.reactions[n] = b
	}
	p.mu.Unlock()
	all, err := b.get(func() (map[string][]confab.ReactionCount, error) {
		return svc.Reactions(ctx, caller(ctx), p.msgs, n)
	})
	if err != nil {
		return nil, err
	}
	counts := all[m.MessageID]
	out := make([]*confab.ReactionCount, len(counts))
	for i := range counts {
		out[i] = &counts[i]
	}
	return out, nil
}

// unreadRepliesOf resolves Message.unreadReplies: one CountUnreadReplies
// for the thread roots of m's page; a message without replies costs none.
func unreadRepliesOf(ctx context.Context, svc *chat.Service, m *confab.Message) (int, error) {
	if m.ReplyCount == 0 {
		return 0, nil
	}
	p := pageOf(ctx, m)
	counts, err := p.unread.get(func() (map[string]int, error) {
		return svc.UnreadReplies(ctx, caller(ctx), p.msgs)
	})
	return counts[m.MessageID], err
}

// attachmentsOf resolves Message.attachments: one read of the files of
// m's page (chat.Service.PageAttachments).
func attachmentsOf(ctx context.Context, svc *chat.Service, m *confab.Message) ([]*confab.Attachment, error) {
	if m.Deleted {
		return []*confab.Attachment{}, nil
	}
	p := pageOf(ctx, m)
	all, err := p.attachments.get(func() (map[string][]*confab.Attachment, error) {
		return svc.PageAttachments(ctx, caller(ctx), p.msgs)
	})
	if err != nil {
		return nil, err
	}
	if a := all[m.MessageID]; a != nil {
		return a, nil
	}
	return []*confab.Attachment{}, nil
}

// usersPerKey is how many user ids per reaction key to read for the
// Message.reactions field being resolved: the largest userIds(limit) below
// it (confab.DefaultReactionUsers without a limit), 1 when userIds is not
// selected. A limit out of range is left to ReactionCount.userIds to
// refuse.
func usersPerKey(ctx context.Context) int {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return confab.DefaultReactionUsers
	}
	oc := graphql.GetOperationContext(ctx)
	n := 1
	for _, f := range graphql.CollectFields(oc, fc.Field.Selections, []string{"ReactionCount"}) {
		if f.Name != "userIds" {
			continue
		}
		limit := confab.DefaultReactionUsers
		if v, ok := intArg(f.ArgumentMap(oc.Variables)["limit"]); ok && v >= 1 && v <= confab.MaxPageLimit {
			limit = v
		}
		n = max(n, limit)
	}
	return n
}

// intArg reads an Int argument as gqlparser or a transport's JSON decoder
// left it.
func intArg(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), x == float64(int(x))
	case json.Number:
		i, err := x.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// callerIndependent reports whether the operation is one of
// SharedSubscriptions, whose renderings are shared between subscribers:
// fields that depend on the caller then answer what every subscriber may
// see (see SharedSubscriptions).
func callerIndependent(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription || len(oc.Operation.SelectionSet) == 0 {
		return false
	}
	f, ok := oc.Operation.SelectionSet[0].(*ast.Field)
	return ok && SharedSubscriptions[f.Name]
}
