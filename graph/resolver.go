package graph

import (
	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/chat"
)

// Resolver is the root resolver: hand-written dependency injection, never
// regenerated. Resolver methods read the caller, call one chat method and
// convert the result.
type Resolver struct {
	Chat  *chat.Service
	Admin *admin.Service // the admin API; nil refuses it (FORBIDDEN)
}
