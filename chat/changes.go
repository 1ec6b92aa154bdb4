package chat

import (
	"context"

	"github.com/confab-chat/confab"
)

// ChangePage is a page of a conversation's change log (syncConversation).
type ChangePage struct {
	Changes []*confab.Change // oldest first
	// HasMore says that changes after the last one of Changes exist: ask
	// again after it.
	HasMore bool
	// LastChangeSeq is the conversation's newest ChangeSeq when the page
	// was read (at least the last of Changes).
	LastChangeSeq int64
}

// SyncConversation returns the changes of a conversation of the caller
// after afterChange, oldest first: at most limit (default
// confab.DefaultSyncLimit, at most confab.MaxPageLimit). A client that was
// away pages through them and ends with the state a fresh read shows
// (messages as they are now: deleted ones as tombstones). How far back it
// reaches is MaxResume changes; further behind is BAD_USER_INPUT, and the
// client reloads with listMessages and syncs from the lastChangeSeq it
// read with the conversation.
func (s *Service) SyncConversation(ctx context.Context, caller confab.Identity, conversationID string, afterChange int64, limit *int) (*ChangePage, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	if afterChange < 0 {
		return nil, confab.Errorf(confab.CodeInvalid, "afterChange must not be negative.")
	}
	n := confab.DefaultSyncLimit
	if limit != nil {
		var err error
		if n, err = pageLimit(limit); err != nil {
			return nil, err
		}
	}
	c, err := s.store.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, err
	}
	if err := checkResume(s, changes, afterChange, c.LastChangeSeq); err != nil {
		return nil, err
	}
	items, err := listChanges(ctx, s.store, conversationID, afterChange, n+1)
	if err != nil {
		return nil, err
	}
	page := &ChangePage{Changes: items, LastChangeSeq: c.LastChangeSeq}
	if len(items) > n {
		page.Changes, page.HasMore = items[:n], true
	}
	if len(page.Changes) > 0 {
		page.LastChangeSeq = max(page.LastChangeSeq, page.Changes[len(page.Changes)-1].ChangeSeq)
	}
	return page, nil
}
