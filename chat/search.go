package chat

import (
	"context"
	"strings"

	"github.com/confab-chat/confab"
)

// Hit is a message found by SearchAllMessages, with its conversation.
type Hit struct {
	Message      *confab.Message
	Conversation *confab.Conversation
}

// HitPage is a page of SearchAllMessages.
type HitPage struct {
	Items     []Hit
	NextToken *string
}

// SearchAllMessages finds live messages of every conversation the caller
// is a member of whose content contains every word of term (as
// SearchMessages does), newest first. The nextToken is the last hit's
// MessageID (ids are time-ordered), bound to the caller and the term, so
// pages stay stable while messages are added. Each hit carries its
// conversation, read once per distinct conversation of the page.
func (s *Service) SearchAllMessages(ctx context.Context, caller confab.Identity, term string, limit *int, nextToken *string) (*HitPage, error) {
	if err := s.requireCaller(caller); err != nil {
		return nil, err
	}
	term = strings.TrimSpace(term)
	if term == "" || !confab.ValidText(term, confab.MaxSearchTermBytes) {
		return nil, confab.Errorf(confab.CodeInvalid, "searchTerm must be 1 to %d bytes of text, without NUL characters.", confab.MaxSearchTermBytes)
	}
	n := confab.DefaultSearchLimit
	if limit != nil {
		var err error
		if n, err = pageLimit(limit); err != nil {
			return nil, err
		}
	}
	owner := caller.UserID + "\x00" + term
	var before string
	if nextToken != nil && *nextToken != "" {
		var cur cursor
		if err := s.decodeCursor(*nextToken, "search-all", owner, &cur); err != nil {
			return nil, err
		}
		if !confab.ValidID(cur.ID) {
			return nil, confab.Errorf(confab.CodeInvalid, "nextToken is invalid.")
		}
		before = cur.ID
	}
	msgs, err := s.store.SearchAllMessages(ctx, caller.UserID, term, before, n+1)
	if err != nil {
		return nil, err
	}
	page := &HitPage{}
	if len(msgs) > n {
		msgs = msgs[:n]
		tok := s.encodeCursor("search-all", owner, cursor{ID: msgs[n-1].MessageID})
		page.NextToken = &tok
	}
	if msgs, err = s.hideBlocked(ctx, caller, msgs); err != nil { // after paging, like ListMessages
		return nil, err
	}
	convs := make(map[string]*confab.Conversation)
	for _, m := range msgs {
		c, ok := convs[m.ConversationID]
		if !ok {
			if c, err = s.hitConversation(ctx, caller, m.ConversationID); err != nil {
				return nil, err
			}
			convs[m.ConversationID] = c
		}
		if c != nil {
			page.Items = append(page.Items, Hit{Message: m, Conversation: c})
		}
	}
	return page, nil
}

// hitConversation reads the conversation of a hit; nil when the caller is
// no longer a member (or it is gone) since the search ran: its hits are
// left out rather than shown.
func (s *Service) hitConversation(ctx context.Context, caller confab.Identity, conversationID string) (*confab.Conversation, error) {
	c, _, err := s.loadConversation(ctx, conversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Member(caller.UserID) == nil {
		return nil, nil
	}
	return c, nil
}
