package confab

import (
	"context"
	"time"
)

// Identity is the authenticated caller, taken from a verified token.
type Identity struct {
	UserID    string
	Username  string
	Email     string
	ExpiresAt time.Time // when the token that proved this identity expires
	// Workspace is the workspace whose token service verified the token
	// ("" is the default workspace). A token is only ever valid in the
	// workspace that issued it.
	Workspace string
}

type identityKey struct{}

// WithIdentity returns a context carrying id. Only the edges (HTTP
// middleware, WebSocket init handlers) call it.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the caller stored by WithIdentity, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok && id.UserID != ""
}
