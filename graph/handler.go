package graph

import (
	"log/slog"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph/generated"
	"github.com/vektah/gqlparser/v2/ast"
)

// Limits on GraphQL operations. Zero values mean the defaults.
type Limits struct {
	// MaxDepth is the deepest selection nesting accepted. Default 10.
	MaxDepth int
	// MaxComplexity is the largest complexity accepted: one point per
	// field, searchMessages SearchComplexity plus its children per result.
	// Default 500.
	MaxComplexity int
	// MaxFields is the most fields an operation may select, fragments
	// expanded, checked before depth and complexity. Default 1000.
	MaxFields int
	// MaxSearches is the most searchMessages fields an operation may
	// hold, aliases included. Default 5.
	MaxSearches int
	// Introspection enables __schema and __type queries.
	Introspection bool
}

// NewServer returns the GraphQL executor with the presenter, recover
// function, limits and per-operation loaders installed, and no transports:
// the server package adds HTTP POST and both WebSocket protocols.
func NewServer(svc *chat.Service, limits Limits, logger *slog.Logger) *handler.Server {
	return NewServerFor(&Resolver{Chat: svc}, limits, logger)
}

// NewServerFor is NewServer over the services of r (the admin API's too).
func NewServerFor(r *Resolver, limits Limits, logger *slog.Logger) *handler.Server {
	if limits.MaxDepth <= 0 {
		limits.MaxDepth = 10
	}
	if limits.MaxComplexity <= 0 {
		limits.MaxComplexity = 500
	}
	if limits.MaxFields <= 0 {
		limits.MaxFields = 1000
	}
	if limits.MaxSearches <= 0 {
		limits.MaxSearches = 5
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg := generated.Config{Resolvers: r}
	cfg.Complexity.Query.SearchMessages = searchComplexity
	cfg.Complexity.Query.SearchAllMessages = func(child int, _ string, limit *int, _ *string) int {
		return searchComplexity(child, "", "", limit)
	}
	srv := handler.New(generated.NewExecutableSchema(cfg))
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(NewErrorPresenter(logger))
	srv.SetRecoverFunc(NewRecoverFunc(logger))
	if limits.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		// No "Did you mean …" naming fields in validation errors: with
		// introspection off the schema is not for strangers to map.
		srv.SetDisableSuggestion(true)
	}
	// SizeLimit first: the depth and complexity checks walk the expanded
	// document, which it bounds.
	srv.Use(SizeLimit{MaxFields: limits.MaxFields, MaxExpensive: limits.MaxSearches, Introspection: limits.Introspection})
	srv.Use(DepthLimit{Max: limits.MaxDepth})
	srv.Use(extension.FixedComplexityLimit(limits.MaxComplexity))
	srv.Use(Loaders{})
	return srv
}

// SearchComplexity is the fixed complexity of one searchMessages (or
// searchAllMessages) field,
// on top of its children for each result it may return: a search reads
// an index and every candidate row of the conversation, far more than a
// field read from a loaded object.
const SearchComplexity = 50

func searchComplexity(child int, _, _ string, limit *int) int {
	n := confab.DefaultSearchLimit
	if limit != nil && *limit > 0 && *limit <= confab.MaxPageLimit {
		n = *limit
	}
	return SearchComplexity + n*child
}
