// Package metered wraps a confab.Store so that every call is reported to an
// observer: its name, how long it took, and its error. cmd/confab turns the
// reports into the confab_store_* Prometheus metrics.
package metered

import (
	"context"
	"errors"
	"time"

	"github.com/confab-chat/confab"
)

// Observer receives one report per store call. It must be cheap and safe
// for concurrent use.
type Observer func(op string, took time.Duration, err error)

// Store is a confab.Store that reports every call of the one it wraps.
type Store struct {
	next    confab.Store
	observe Observer
}

var _ confab.Store = (*Store)(nil)

// Wrap returns next reporting to observe.
func Wrap(next confab.Store, observe Observer) *Store {
	return &Store{next: next, observe: observe}
}

// Failed reports whether err is a failure of the store rather than an
// answer: missing items, conflicts and invalid input are answers; so is a
// caller that gave up (context cancelled or out of time).
func Failed(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch confab.ErrorCode(err) {
	case confab.CodeNotFound, confab.CodeConflict, confab.CodeInvalid:
		return false
	}
	return true
}

// call runs f as the operation op and reports it.
func call[T any](s *Store, op string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	s.observe(op, time.Since(start), err)
	return v, err
}

// run is call for operations that return only an error.
func run(s *Store, op string, f func() error) error {
	start := time.Now()
	err := f()
	s.observe(op, time.Since(start), err)
	return err
}

// The methods below implement confab.Store: each calls the wrapped store
// and reports itself under its method name.

func (s *Store) InsertAccount(ctx context.Context, a *confab.Account) error {
	return run(s, "InsertAccount", func() error { return s.next.InsertAccount(ctx, a) })
}

func (s *Store) GetAccountByLogin(ctx context.Context, login string) (*confab.Account, error) {
	return call(s, "GetAccountByLogin", func() (*confab.Account, error) { return s.next.GetAccountByLogin(ctx, login) })
}

func (s *Store) GetUser(ctx context.Context, userID string) (*confab.User, error) {
	return call(s, "GetUser", func() (*confab.User, error) { return s.next.GetUser(ctx, userID) })
}

func (s *Store) GetUsers(ctx context.Context, ids []string) ([]*confab.User, error) {
	return call(s, "GetUsers", func() ([]*confab.User, error) { return s.next.GetUsers(ctx, ids) })
}

func (s *Store) UpdateUser(ctx context.Context, userID string, u confab.UserUpdate) (*confab.User, error) {
	return call(s, "UpdateUser", func() (*confab.User, error) { return s.next.UpdateUser(ctx, userID, u) })
}

func (s *Store) InsertRefreshToken(ctx context.Context, t *confab.RefreshToken) error {
	return run(s, "InsertRefreshToken", func() error { return s.next.InsertRefreshToken(ctx, t) })
}

func (s *Store) GetRefreshToken(ctx context.Context, hash string) (*confab.RefreshToken, error) {
	return call(s, "GetRefreshToken", func() (*confab.RefreshToken, error) { return s.next.GetRefreshToken(ctx, hash) })
}

func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *confab.RefreshToken) error {
	return run(s, "RotateRefreshToken", func() error { return s.next.RotateRefreshToken(ctx, oldHash, next) })
}

func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	return run(s, "RevokeRefreshFamily", func() error { return s.next.RevokeRefreshFamily(ctx, familyID) })
}

func (s *Store) InsertConversation(ctx context.Context, c *confab.Conversation) error {
	return run(s, "InsertConversation", func() error { return s.next.InsertConversation(ctx, c) })
}

func (s *Store) GetConversation(ctx context.Context, conversationID string) (*confab.Conversation, error) {
	return call(s, "GetConversation", func() (*confab.Conversation, error) { return s.next.GetConversation(ctx, conversationID) })
}

func (s *Store) UpdateConversation(ctx context.Context, conversationID, userID string, u confab.ConversationUpdate, at time.Time) (*confab.Conversation, error) {
	return call(s, "UpdateConversation", func() (*confab.Conversation, error) {
		return s.next.UpdateConversation(ctx, conversationID, userID, u, at)
	})
}

func (s *Store) GetDirectConversation(ctx context.Context, userID, otherID string) (*confab.Conversation, error) {
	return call(s, "GetDirectConversation", func() (*confab.Conversation, error) { return s.next.GetDirectConversation(ctx, userID, otherID) })
}

func (s *Store) AddMembers(ctx context.Context, conversationID, byUserID string, members []confab.Member, maxMembers int, at time.Time) ([]confab.Member, *confab.Conversation, error) {
	start := time.Now()
	added, c, err := s.next.AddMembers(ctx, conversationID, byUserID, members, maxMembers, at)
	s.observe("AddMembers", time.Since(start), err)
	return added, c, err
}

func (s *Store) RemoveMember(ctx context.Context, conversationID, userID, byUserID string, at time.Time) (*confab.Conversation, error) {
	return call(s, "RemoveMember", func() (*confab.Conversation, error) {
		return s.next.RemoveMember(ctx, conversationID, userID, byUserID, at)
	})
}

func (s *Store) UpdateMembers(ctx context.Context, conversationID, byUserID string, updates []confab.MemberUpdate, at time.Time) (*confab.Conversation, error) {
	return call(s, "UpdateMembers", func() (*confab.Conversation, error) {
		return s.next.UpdateMembers(ctx, conversationID, byUserID, updates, at)
	})
}

func (s *Store) ListConversations(ctx context.Context, userID string, p confab.ConversationPage) ([]*confab.Conversation, error) {
	return call(s, "ListConversations", func() ([]*confab.Conversation, error) { return s.next.ListConversations(ctx, userID, p) })
}

func (s *Store) ListConversationIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	return call(s, "ListConversationIDs", func() ([]string, error) { return s.next.ListConversationIDs(ctx, userID, limit) })
}

func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, seq int64, at time.Time) error {
	return run(s, "MarkRead", func() error { return s.next.MarkRead(ctx, conversationID, userID, seq, at) })
}

func (s *Store) AppendMessage(ctx context.Context, m *confab.Message) (bool, error) {
	return call(s, "AppendMessage", func() (bool, error) { return s.next.AppendMessage(ctx, m) })
}

func (s *Store) GetMessage(ctx context.Context, conversationID, messageID string) (*confab.Message, error) {
	return call(s, "GetMessage", func() (*confab.Message, error) { return s.next.GetMessage(ctx, conversationID, messageID) })
}

func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID, byUserID string, at time.Time) (*confab.Message, *confab.Conversation, error) {
	start := time.Now()
	m, c, err := s.next.DeleteMessage(ctx, conversationID, messageID, byUserID, at)
	s.observe("DeleteMessage", time.Since(start), err)
	return m, c, err
}

func (s *Store) ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*confab.Message, error) {
	return call(s, "ListMessages", func() ([]*confab.Message, error) {
		return s.next.ListMessages(ctx, conversationID, beforeSeq, limit)
	})
}

func (s *Store) ListMessagesAfter(ctx context.Context, conversationID string, afterSeq int64, limit int) ([]*confab.Message, error) {
	return call(s, "ListMessagesAfter", func() ([]*confab.Message, error) {
		return s.next.ListMessagesAfter(ctx, conversationID, afterSeq, limit)
	})
}

func (s *Store) SearchMessages(ctx context.Context, conversationID, terms string, limit int) ([]*confab.Message, error) {
	return call(s, "SearchMessages", func() ([]*confab.Message, error) {
		return s.next.SearchMessages(ctx, conversationID, terms, limit)
	})
}

func (s *Store) PurgeMessages(ctx context.Context, before time.Time, limit int) (int, error) {
	return call(s, "PurgeMessages", func() (int, error) { return s.next.PurgeMessages(ctx, before, limit) })
}

func (s *Store) AdjustConnections(ctx context.Context, userID, nodeID string, delta int, now, staleBefore time.Time) (int, error) {
	return call(s, "AdjustConnections", func() (int, error) {
		return s.next.AdjustConnections(ctx, userID, nodeID, delta, now, staleBefore)
	})
}

func (s *Store) TouchConnections(ctx context.Context, nodeID string, now time.Time) error {
	return run(s, "TouchConnections", func() error { return s.next.TouchConnections(ctx, nodeID, now) })
}

func (s *Store) Ping(ctx context.Context) error {
	return run(s, "Ping", func() error { return s.next.Ping(ctx) })
}

// Close closes the wrapped store (not reported).
func (s *Store) Close() error { return s.next.Close() }
