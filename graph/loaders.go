package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
)

// userCache is a per-operation cache of users, so Message.author on a page
// of messages costs one batched store read instead of one per message.
type userCache struct {
	mu    sync.Mutex
	users map[string]*confab.User // guarded by mu
}

type userCacheKey struct{}

// Loaders is a gqlgen extension that gives every operation its own
// userCache.
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
	return next(context.WithValue(ctx, userCacheKey{}, &userCache{users: make(map[string]*confab.User)}))
}

// primeAuthors loads the authors of msgs, messages of one conversation, in
// one batch into the operation's cache. A failure is not fatal: authorOf
// then loads one by one. Authors are seen as every member of the
// conversation sees them (chat.Service.Authors), so the cache is right for
// any caller.
func primeAuthors(ctx context.Context, svc *chat.Service, msgs []*confab.Message) {
	c, _ := ctx.Value(userCacheKey{}).(*userCache)
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
		c.users[u.UserID] = u
	}
	c.mu.Unlock()
}

// authorOf resolves Message.author from the operation's cache, loading and
// caching it on a miss.
func authorOf(ctx context.Context, svc *chat.Service, m *confab.Message) (*confab.User, error) {
	c, _ := ctx.Value(userCacheKey{}).(*userCache)
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
		c.users[m.UserID] = u
		c.mu.Unlock()
	}
	return u, nil
}
