package graph

import (
	"log/slog"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph/generated"
	"github.com/vektah/gqlparser/v2/ast"
)

// Limits on GraphQL operations. Zero values mean the defaults.
type Limits struct {
	// MaxDepth is the deepest selection nesting accepted. Default 10.
	MaxDepth int
	// MaxComplexity is the largest complexity (one point per field)
	// accepted. Default 500.
	MaxComplexity int
	// Introspection enables __schema and __type queries.
	Introspection bool
}

// NewServer returns the GraphQL executor with the presenter, recover
// function, limits and per-operation loaders installed, and no transports:
// the server package adds HTTP POST and both WebSocket protocols.
func NewServer(svc *chat.Service, limits Limits, logger *slog.Logger) *handler.Server {
	if limits.MaxDepth <= 0 {
		limits.MaxDepth = 10
	}
	if limits.MaxComplexity <= 0 {
		limits.MaxComplexity = 500
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{Chat: svc}}))
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(NewErrorPresenter(logger))
	srv.SetRecoverFunc(NewRecoverFunc(logger))
	if limits.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(DepthLimit{Max: limits.MaxDepth})
	srv.Use(extension.FixedComplexityLimit(limits.MaxComplexity))
	srv.Use(Loaders{})
	return srv
}
