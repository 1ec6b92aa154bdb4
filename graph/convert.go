package graph

import (
	"context"

	"github.com/confab-chat/confab"
)

// caller returns the authenticated identity the transport put in ctx. An
// absent identity is the zero value, which every chat method refuses as
// UNAUTHENTICATED.
func caller(ctx context.Context) confab.Identity {
	id, _ := confab.IdentityFrom(ctx)
	return id
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
