package metered

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// The conversation-feature methods (edits, threads, reactions, the change
// log), measured like the rest.

func (s *Store) EditMessage(ctx context.Context, conversationID, messageID, content string, at time.Time) (*confab.Message, error) {
	return call(s, "EditMessage", func() (*confab.Message, error) {
		return s.next.EditMessage(ctx, conversationID, messageID, content, at)
	})
}

func (s *Store) ListMessageEdits(ctx context.Context, conversationID, messageID string, limit int) ([]*confab.MessageEdit, error) {
	return call(s, "ListMessageEdits", func() ([]*confab.MessageEdit, error) {
		return s.next.ListMessageEdits(ctx, conversationID, messageID, limit)
	})
}

func (s *Store) ListThread(ctx context.Context, conversationID, rootID string, p confab.ThreadPage) ([]*confab.Message, error) {
	return call(s, "ListThread", func() ([]*confab.Message, error) { return s.next.ListThread(ctx, conversationID, rootID, p) })
}

func (s *Store) SearchAllMessages(ctx context.Context, userID, terms, beforeID string, limit int) ([]*confab.Message, error) {
	return call(s, "SearchAllMessages", func() ([]*confab.Message, error) {
		return s.next.SearchAllMessages(ctx, userID, terms, beforeID, limit)
	})
}

func (s *Store) ListChanges(ctx context.Context, conversationID string, afterChange int64, limit int) ([]*confab.Change, error) {
	return call(s, "ListChanges", func() ([]*confab.Change, error) {
		return s.next.ListChanges(ctx, conversationID, afterChange, limit)
	})
}

// reactionResult carries AddReaction's and RemoveReaction's two results
// through call.
type reactionResult struct {
	changed bool
	m       *confab.Message
}

func (s *Store) AddReaction(ctx context.Context, r *confab.Reaction, maxKeys int) (bool, *confab.Message, error) {
	res, err := call(s, "AddReaction", func() (reactionResult, error) {
		added, m, err := s.next.AddReaction(ctx, r, maxKeys)
		return reactionResult{added, m}, err
	})
	return res.changed, res.m, err
}

func (s *Store) RemoveReaction(ctx context.Context, r *confab.Reaction) (bool, *confab.Message, error) {
	res, err := call(s, "RemoveReaction", func() (reactionResult, error) {
		removed, m, err := s.next.RemoveReaction(ctx, r)
		return reactionResult{removed, m}, err
	})
	return res.changed, res.m, err
}

func (s *Store) ListReactions(ctx context.Context, conversationID string, messageIDs []string, userID string, usersPerKey int) (map[string][]confab.ReactionCount, error) {
	return call(s, "ListReactions", func() (map[string][]confab.ReactionCount, error) {
		return s.next.ListReactions(ctx, conversationID, messageIDs, userID, usersPerKey)
	})
}

func (s *Store) MarkThreadRead(ctx context.Context, conversationID, rootID, userID string, seq int64) error {
	return run(s, "MarkThreadRead", func() error { return s.next.MarkThreadRead(ctx, conversationID, rootID, userID, seq) })
}

func (s *Store) CountUnreadReplies(ctx context.Context, conversationID, userID string, rootIDs []string) (map[string]int, error) {
	return call(s, "CountUnreadReplies", func() (map[string]int, error) {
		return s.next.CountUnreadReplies(ctx, conversationID, userID, rootIDs)
	})
}
