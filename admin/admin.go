// Package admin runs the server administrators' operations (issue #15):
// users, conversations, the reports queue, the audit log, usage
// analytics and the export of one user's data. It sits above chat and
// auth, which each own a half of what an administrator touches, and is
// reached through the admin GraphQL API (graph) and `confab admin`.
//
// Every operation checks that the caller is a server administrator
// (confab.User.Admin) and records what it did in the audit log.
package admin

import (
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/chat"
)

// Service implements the admin operations. It is safe for concurrent use.
type Service struct {
	store confab.Store
	chat  *chat.Service
	auth  *auth.Service
	now   func() time.Time
}

// New returns a Service over the store and the chat and account services.
func New(store confab.Store, chatSvc *chat.Service, authSvc *auth.Service) *Service {
	return &Service{store: store, chat: chatSvc, auth: authSvc, now: time.Now}
}
