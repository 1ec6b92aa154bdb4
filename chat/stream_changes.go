package chat

import (
	"context"

	"github.com/confab-chat/confab"
)

// changes is the order of onConversationChanged: the change log by
// ChangeSeq, every entry delivered. Live changes come from the Change of
// every event that carries one (message_sent, message_deleted, changed);
// replayed and gap-filled ones from ListChanges, with their message as it
// is now. Both may deliver a message newer than the change (a later edit
// or deletion): clients keep the copy with the highest Message.ChangeSeq.
var changes = &order[*confab.Change]{
	name: "changes",
	seq:  func(c *confab.Change) int64 { return c.ChangeSeq },
	fromEvent: func(ev *confab.Event) (*confab.Change, bool) {
		return ev.Change, ev.Change != nil && ev.Change.ChangeSeq > 0
	},
	read: listChanges,
	author: func(c *confab.Change) string {
		if c.Message == nil {
			return ""
		}
		return c.Message.UserID
	},
	last:   func(c *confab.Conversation) int64 { return c.LastChangeSeq },
	beyond: "afterChange is beyond the newest change (changeSeq %d).",
	tooFar: "More than %d changes were made after afterChange: reload the conversation with listMessages, then continue from its lastChangeSeq.",
}

// OnConversationChanged streams the change log of a conversation of the
// caller in ChangeSeq order, with no gap and no duplicate, under the rules
// of onMessageSent (see orderedStream): with afterChange it first replays
// every change after it (at most MaxResume behind; further is
// BAD_USER_INPUT, reload with listMessages), paged from the store as the
// subscriber takes them, then goes live; a subscriber too slow for its
// queue is evicted and resumes with the last changeSeq it saw.
func (s *Service) OnConversationChanged(ctx context.Context, caller confab.Identity, conversationID string, afterChange *int64) (<-chan *confab.Change, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	if afterChange != nil && *afterChange < 0 {
		return nil, confab.Errorf(confab.CodeInvalid, "afterChange must not be negative.")
	}
	return subscribeOrdered(ctx, s, changes, conversationID, caller.UserID, afterChange)
}

// listChanges reads changes after a position from the store, their
// deleted messages as tombstones (as the events of deletions carry them).
func listChanges(ctx context.Context, st confab.Store, conversationID string, after int64, limit int) ([]*confab.Change, error) {
	items, err := st.ListChanges(ctx, conversationID, after, limit)
	if err != nil {
		return nil, err
	}
	for _, c := range items {
		if c.Message != nil && c.Message.Deleted {
			c.Message = tombstone(c.Message)
		}
	}
	return items, nil
}
