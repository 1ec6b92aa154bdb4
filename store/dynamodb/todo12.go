package dynamodb

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// The store methods of issue #12, not yet built: each answers
// CodeInternal. The store's helper replaces this file.

func errTODO12() error { return confab.Errorf(confab.CodeInternal, "not implemented yet (issue #12)") }

func (s *Store) EditMessage(ctx context.Context, conversationID, messageID, content string, at time.Time) (*confab.Message, error) {
	return nil, errTODO12()
}

func (s *Store) ListMessageEdits(ctx context.Context, conversationID, messageID string, limit int) ([]*confab.MessageEdit, error) {
	return nil, errTODO12()
}

func (s *Store) ListThread(ctx context.Context, conversationID, rootID string, p confab.ThreadPage) ([]*confab.Message, error) {
	return nil, errTODO12()
}

func (s *Store) SearchAllMessages(ctx context.Context, userID, terms, beforeID string, limit int) ([]*confab.Message, error) {
	return nil, errTODO12()
}

func (s *Store) ListChanges(ctx context.Context, conversationID string, afterChange int64, limit int) ([]*confab.Change, error) {
	return nil, errTODO12()
}

func (s *Store) AddReaction(ctx context.Context, r *confab.Reaction, maxKeys int) (bool, *confab.Message, error) {
	return false, nil, errTODO12()
}

func (s *Store) RemoveReaction(ctx context.Context, r *confab.Reaction) (bool, *confab.Message, error) {
	return false, nil, errTODO12()
}

func (s *Store) ListReactions(ctx context.Context, conversationID string, messageIDs []string, userID string, usersPerKey int) (map[string][]confab.ReactionCount, error) {
	return nil, errTODO12()
}

func (s *Store) MarkThreadRead(ctx context.Context, conversationID, rootID, userID string, seq int64) error {
	return errTODO12()
}

func (s *Store) CountUnreadReplies(ctx context.Context, conversationID, userID string, rootIDs []string) (map[string]int, error) {
	return nil, errTODO12()
}
