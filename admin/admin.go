// Package admin runs the server administrators' operations (issue #15):
// users, conversations, the reports queue, the audit log, usage
// analytics and the export of one user's data. It sits above chat and
// auth, which each own a half of what an administrator touches, and is
// reached through the admin GraphQL API (graph) and `confab admin`.
//
// Every operation checks that the actor is a server administrator
// (confab.User.Admin) or the command line, and records what it changed in
// the audit log (reads are not recorded, except an export). It holds no
// rule of chat or auth: a message deletion, a sign-out or an archive goes
// through their methods, which publish what they always publish. It never
// talks to a store engine or a broker directly (imports_test.go).
package admin

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/chat"
)

// DefaultPageLimit is the page size of the admin lists when none is given.
const DefaultPageLimit = 50

// MaxTopConversations bounds Usage's top conversations; DefaultTop is
// used when none is asked for.
const (
	MaxTopConversations = 50
	DefaultTop          = 10
)

// Service implements the admin operations. It is safe for concurrent use.
// A nil *Service refuses every operation with FORBIDDEN (a server started
// without the admin API).
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

// Actor is who performs an operation: a signed-in user, who must be a
// server administrator, or the command line, which needs no account (it
// already holds the data directory or the database URL). The zero Actor
// is nobody and is refused.
type Actor struct {
	id  confab.Identity
	cli bool
}

// Caller is the actor of an API request made with the identity id.
func Caller(id confab.Identity) Actor { return Actor{id: id} }

// CommandLine is the actor of `confab admin`: recorded in the audit log as
// actor "".
func CommandLine() Actor { return Actor{cli: true} }

var errForbidden = confab.Errorf(confab.CodeForbidden, "Server administrators only.")

// authorize returns the id the audit log records for a (the user id, ""
// for the command line), or FORBIDDEN unless a is the command line or a
// user whose account says Admin. The account is read on every call, so a
// revoked administrator loses the API at once.
func (s *Service) authorize(ctx context.Context, a Actor) (string, error) {
	if s == nil {
		return "", errForbidden
	}
	if a.cli {
		return "", nil
	}
	if a.id.UserID == "" {
		return "", confab.Errorf(confab.CodeUnauthenticated, "Authentication required.")
	}
	u, err := s.store.GetUser(ctx, a.id.UserID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return "", errForbidden
	}
	if err != nil {
		return "", err
	}
	if !u.Admin {
		return "", errForbidden
	}
	return u.UserID, nil
}

// audit records an action of actorID through the chat service's log.
func (s *Service) audit(ctx context.Context, actorID string, e confab.AuditEntry) error {
	e.ActorID = actorID
	return s.chat.Audit(ctx, &e)
}

// pageLimit is limit (nil: DefaultPageLimit) checked against max.
func pageLimit(limit *int, max int) (int, error) {
	if limit == nil {
		return min(DefaultPageLimit, max), nil
	}
	if *limit < 1 || *limit > max {
		return 0, confab.Errorf(confab.CodeInvalid, "limit must be between 1 and %d.", max)
	}
	return *limit, nil
}

// cursor checks a nextToken: the id of the last item of the previous page
// (the admin lists are for administrators, so their tokens need not hide
// anything; they are checked like any input).
func cursor(nextToken *string) (string, error) {
	if nextToken == nil || *nextToken == "" {
		return "", nil
	}
	if !confab.ValidID(*nextToken) {
		return "", confab.Errorf(confab.CodeInvalid, "nextToken is not valid.")
	}
	return *nextToken, nil
}

// checkReason checks an administrator's note or reason.
func checkReason(reason string) error {
	if !confab.ValidText(reason, confab.MaxReasonBytes) {
		return confab.Errorf(confab.CodeInvalid, "The reason must be at most %d bytes of text.", confab.MaxReasonBytes)
	}
	return nil
}
