package chat

import (
	"context"
	"strings"

	"github.com/confab-chat/confab"
)

// DefaultSendsPerSecond is Config.SendsPerSecond when it is zero: each
// user's sendMessage calls per second, in bursts of twice that.
const DefaultSendsPerSecond = 20

// SendMessageInput is what a client sends.
type SendMessageInput struct {
	ConversationID string
	Content        string
	MessageType    confab.MessageType // "" means TEXT
	ClientToken    string             // optional idempotency key
	Attachments    []string           // upload ids (upload.go); content may then be empty
}

// MessagePage is a page of ListMessages.
type MessagePage struct {
	Items     []*confab.Message
	NextToken *string
}

// SendMessage appends a message by the caller to a conversation of theirs,
// durably, and then publishes it. A retry with the same ClientToken returns
// the original message and publishes nothing; the same token with other
// content is CONFLICT. Each user has a budget of SendsPerSecond (retries
// included); over it is RATE_LIMITED with the wait.
func (s *Service) SendMessage(ctx context.Context, caller confab.Identity, in SendMessageInput) (*confab.Message, error) {
	if err := s.requireMember(ctx, caller, in.ConversationID); err != nil {
		return nil, err
	}
	if err := s.validateMessage(&in); err != nil {
		return nil, err
	}
	if ok, wait := s.sends.Allow(caller.UserID); !ok {
		return nil, confab.Limited(wait, "Too many messages: at most %g per second.", s.cfg.SendsPerSecond)
	}
	now := s.nowUTC()
	m := &confab.Message{
		MessageID:      s.newID(),
		ConversationID: in.ConversationID,
		UserID:         caller.UserID,
		Content:        in.Content,
		MessageType:    in.MessageType,
		CreatedAt:      now,
		ClientToken:    in.ClientToken,
	}
	if err := s.attach(ctx, caller, m, in.Attachments); err != nil {
		return nil, err
	}
	created, err := s.store.AppendMessage(ctx, m)
	if len(in.Attachments) > 0 && (err != nil || !created) {
		// Not stored under this id: free the uploads (best effort; they
		// expire otherwise).
		_ = s.files.store.DetachUploads(context.WithoutCancel(ctx), m.MessageID)
	}
	if err != nil {
		if confab.ErrorCode(err) == confab.CodeNotFound {
			return nil, errConversationNotFound()
		}
		return nil, err
	}
	if !created {
		if m.Content != in.Content || m.MessageType != in.MessageType {
			return nil, confab.Errorf(confab.CodeConflict, "clientToken was already used for another message.")
		}
		return m, nil
	}
	s.stats.stored.Add(1)
	s.publish(ctx, confab.ConversationTopic(m.ConversationID), &confab.Event{
		Kind: confab.EventMessageSent, ConversationID: m.ConversationID, Message: m, At: now,
	})
	s.conversationChanged(m.ConversationID)
	return m, nil
}

func (s *Service) validateMessage(in *SendMessageInput) error {
	if in.MessageType == "" {
		in.MessageType = confab.MessageText
	}
	switch {
	case !in.MessageType.Valid():
		return confab.Errorf(confab.CodeInvalid, "messageType is not a known type.")
	case in.MessageType == confab.MessageSystem:
		return confab.Errorf(confab.CodeInvalid, "Clients may not send SYSTEM messages.")
	case strings.TrimSpace(in.Content) == "" && len(in.Attachments) == 0:
		return confab.Errorf(confab.CodeInvalid, "content must not be empty.")
	case len(in.Content) > s.cfg.MaxContentBytes:
		return confab.Errorf(confab.CodeInvalid, "content is larger than %d bytes.", s.cfg.MaxContentBytes)
	}
	if err := confab.CheckText("content", in.Content, s.cfg.MaxContentBytes); err != nil {
		return err
	}
	return confab.CheckText("clientToken", in.ClientToken, confab.MaxClientTokenBytes)
}

// GetMessage returns a live message of a conversation of the caller.
func (s *Service) GetMessage(ctx context.Context, caller confab.Identity, conversationID, messageID string) (*confab.Message, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	if !confab.ValidID(messageID) {
		return nil, confab.Errorf(confab.CodeNotFound, "Message not found.")
	}
	m, err := s.store.GetMessage(ctx, conversationID, messageID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, confab.Errorf(confab.CodeNotFound, "Message not found.")
	}
	return m, err
}

// ListMessages returns a page of live messages, newest first. The nextToken
// is a seq position, so pages stay stable while messages are added.
func (s *Service) ListMessages(ctx context.Context, caller confab.Identity, conversationID string, limit *int, nextToken *string) (*MessagePage, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	n, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	var before int64
	if nextToken != nil && *nextToken != "" {
		var cur cursor
		if err := s.decodeCursor(*nextToken, "messages", conversationID, &cur); err != nil {
			return nil, err
		}
		if cur.Seq <= 0 {
			return nil, confab.Errorf(confab.CodeInvalid, "nextToken is invalid.")
		}
		before = cur.Seq
	}
	items, err := s.store.ListMessages(ctx, conversationID, before, n+1)
	if err != nil {
		return nil, err
	}
	page := &MessagePage{Items: items}
	if len(items) > n {
		page.Items = items[:n]
		tok := s.encodeCursor("messages", conversationID, cursor{Seq: items[n-1].Seq})
		page.NextToken = &tok
	}
	return page, nil
}

// DeleteMessage deletes a message; only its author may. Members are told
// through onMessageDeleted and onConversationUpdated.
func (s *Service) DeleteMessage(ctx context.Context, caller confab.Identity, conversationID, messageID string) (*confab.Message, error) {
	m, err := s.GetMessage(ctx, caller, conversationID, messageID)
	if err != nil {
		return nil, err
	}
	if m.UserID != caller.UserID {
		return nil, confab.Errorf(confab.CodeForbidden, "Only the author can delete a message.")
	}
	m, c, err := s.store.DeleteMessage(ctx, conversationID, messageID, s.nowUTC())
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, confab.Errorf(confab.CodeNotFound, "Message not found.")
	}
	if err != nil {
		return nil, err
	}
	s.publish(ctx, confab.ConversationTopic(conversationID), &confab.Event{
		Kind: confab.EventMessageDeleted, ConversationID: conversationID, Message: m, At: s.nowUTC(),
	})
	s.publishConversation(ctx, c)
	return m, nil
}

// SearchMessages finds live messages of a conversation of the caller whose
// content contains every word of term (confab.SearchWords: words as
// prefixes, case-insensitive, at most MaxSearchWords of them), newest
// first.
func (s *Service) SearchMessages(ctx context.Context, caller confab.Identity, conversationID, term string, limit *int) ([]*confab.Message, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
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
	return s.store.SearchMessages(ctx, conversationID, term, n)
}
