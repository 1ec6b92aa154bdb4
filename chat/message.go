package chat

import (
	"context"
	"strings"
	"time"

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

	// ParentMessageID makes the message a reply in that message's thread;
	// a reply to a reply goes to the same root (threads are one level).
	ParentMessageID string
	// AlsoInConversation shows a reply in the conversation's timeline too
	// (only with ParentMessageID).
	AlsoInConversation bool
	// Mentions are user ids of members the message mentions: duplicates
	// are dropped, at most confab.MaxMentions remain.
	Mentions []string
	// Attachments are upload ids (upload.go); content may then be empty.
	Attachments []string
}

// MessagePage is a page of ListMessages.
type MessagePage struct {
	Items     []*confab.Message
	NextToken *string
}

// SendMessage appends a message by the caller to a conversation of theirs,
// durably, and then publishes it. A retry with the same ClientToken returns
// the original message and publishes nothing; the same token with other
// content is CONFLICT. Each user has a budget of SendsPerSecond (retries,
// edits and reactions included); over it is RATE_LIMITED with the wait.
//
// A reply (ParentMessageID) goes to the thread of a live message of the
// conversation, or of its root when that message is itself a reply; the
// root's THREAD_UPDATED change is published after the reply's.
//
// The conversation's rules apply (moderation.go): the caller's role must
// be at least the settings' Post and never READ_ONLY, a muted member and
// an archived conversation are FORBIDDEN, and in slow mode a member below
// ADMIN sending again too soon is RATE_LIMITED with the wait. They cost no
// store read: the membership is cached, the slow mode is checked by the
// store in the send's own write.
func (s *Service) SendMessage(ctx context.Context, caller confab.Identity, in SendMessageInput) (*confab.Message, error) {
	c, member, err := s.memberOf(ctx, caller, in.ConversationID)
	if err != nil {
		return nil, err
	}
	if err := mayWrite(c, member, postRole(c), s.nowUTC()); err != nil {
		return nil, err
	}
	if err := s.validateMessage(&in); err != nil {
		return nil, err
	}
	mentions, err := s.checkMentions(ctx, in.ConversationID, in.Mentions)
	if err != nil {
		return nil, err
	}
	if err := s.allowWrite(caller); err != nil {
		return nil, err
	}
	rootID, err := s.threadRoot(ctx, in.ConversationID, in.ParentMessageID)
	if err != nil {
		return nil, err
	}
	if err := s.checkBeforeSend(ctx, caller, &in, rootID, mentions); err != nil {
		return nil, err
	}
	now := s.nowUTC()
	m := &confab.Message{
		MessageID:          s.newID(),
		ConversationID:     in.ConversationID,
		UserID:             caller.UserID,
		Content:            in.Content,
		MessageType:        in.MessageType,
		CreatedAt:          now,
		ClientToken:        in.ClientToken,
		Mentions:           mentions,
		ParentMessageID:    rootID,
		AlsoInConversation: in.AlsoInConversation,
		SlowMode:           slowMode(c, member),
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
		if m.SlowMode > 0 && confab.ErrorCode(err) == confab.CodeLimited {
			return nil, s.errSlowMode(ctx, err, m.ConversationID, caller.UserID, m.SlowMode)
		}
		if confab.ErrorCode(err) == confab.CodeNotFound {
			if rootID != "" { // the root was deleted since threadRoot read it
				return nil, errMessageNotFound()
			}
			return nil, errConversationNotFound()
		}
		return nil, err
	}
	if !created {
		if m.Content != in.Content || m.MessageType != in.MessageType || m.ParentMessageID != rootID {
			return nil, confab.Errorf(confab.CodeConflict, "clientToken was already used for another message.")
		}
		return m, nil
	}
	s.stats.stored.Add(1)
	s.publish(ctx, confab.ConversationTopic(m.ConversationID), &confab.Event{
		Kind: confab.EventMessageSent, ConversationID: m.ConversationID, Message: m, At: now,
		Change: messageChange(confab.ChangeMessageSent, m, caller.UserID, now),
	})
	if rootID != "" {
		s.publishThreadUpdated(ctx, m, caller.UserID, now)
	}
	s.conversationChanged(m.ConversationID)
	return m, nil
}

// messageChange is the change log entry an event carries for a change to m
// (m.ChangeSeq is the change's).
func messageChange(kind confab.ChangeKind, m *confab.Message, userID string, at time.Time) *confab.Change {
	return &confab.Change{
		ConversationID: m.ConversationID, ChangeSeq: m.ChangeSeq, Kind: kind, At: at,
		UserID: userID, MessageID: m.MessageID, Message: m,
	}
}

// allowWrite spends one unit of the caller's send budget: sends, edits
// and reactions share it, since each one grows the change log every
// member's client replays.
func (s *Service) allowWrite(caller confab.Identity) error {
	if ok, wait := s.sends.Allow(caller.UserID); !ok {
		return confab.Limited(wait, "Too many messages, edits and reactions: at most %g per second.", s.cfg.SendsPerSecond)
	}
	return nil
}

// checkMentions validates the user ids a message mentions: each must be a
// member of the conversation. It returns them without duplicates, in the
// order first given; more than confab.MaxMentions is BAD_USER_INPUT.
func (s *Service) checkMentions(ctx context.Context, conversationID string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]string, 0, min(len(ids), confab.MaxMentions))
	seen := make(map[string]bool, len(out))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		if len(out) == confab.MaxMentions {
			return nil, confab.Errorf(confab.CodeInvalid, "A message may mention at most %d members.", confab.MaxMentions)
		}
		notMember := confab.Errorf(confab.CodeInvalid, "mentions must name members of the conversation.")
		if !confab.ValidID(id) {
			return nil, notMember
		}
		// requireMember answers from the membership cache the caller's
		// own check has just filled.
		err := s.requireMember(ctx, confab.Identity{UserID: id}, conversationID)
		switch confab.ErrorCode(err) {
		case "":
		case confab.CodeNotFound:
			return nil, notMember
		default:
			return nil, err
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, nil
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
	}
	if len(in.Attachments) > 0 && strings.TrimSpace(in.Content) == "" {
		// Files alone: the content may be empty, but is still text.
		if err := confab.CheckText("content", in.Content, s.cfg.MaxContentBytes); err != nil {
			return err
		}
	} else if err := s.checkContent(in.Content); err != nil {
		return err
	}
	if in.AlsoInConversation && in.ParentMessageID == "" {
		return confab.Errorf(confab.CodeInvalid, "alsoInConversation needs parentMessageId.")
	}
	return confab.CheckText("clientToken", in.ClientToken, confab.MaxClientTokenBytes)
}

// checkContent applies the content rules that sends and edits share.
func (s *Service) checkContent(content string) error {
	switch {
	case strings.TrimSpace(content) == "":
		return confab.Errorf(confab.CodeInvalid, "content must not be empty.")
	case len(content) > s.cfg.MaxContentBytes:
		return confab.Errorf(confab.CodeInvalid, "content is larger than %d bytes.", s.cfg.MaxContentBytes)
	}
	return confab.CheckText("content", content, s.cfg.MaxContentBytes)
}

// GetMessage returns a live message of a conversation of the caller.
func (s *Service) GetMessage(ctx context.Context, caller confab.Identity, conversationID, messageID string) (*confab.Message, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	return s.liveMessage(ctx, conversationID, messageID)
}

// liveMessage reads a live message of a conversation the caller has been
// checked to be in: NOT_FOUND when it is missing or deleted.
func (s *Service) liveMessage(ctx context.Context, conversationID, messageID string) (*confab.Message, error) {
	if !confab.ValidID(messageID) {
		return nil, errMessageNotFound()
	}
	m, err := s.store.GetMessage(ctx, conversationID, messageID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errMessageNotFound()
	}
	return m, err
}

// errMessageNotFound is the one answer for a message that is missing,
// deleted, or in a conversation hidden from the caller.
func errMessageNotFound() error { return confab.Errorf(confab.CodeNotFound, "Message not found.") }

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

// DeleteMessage deletes a message: its author may, and so may a moderator
// (moderation.go) of a message by someone ranked below them, whose delete
// the tombstone records (Message.DeletedBy) as does the audit log. An
// archived conversation is read-only: FORBIDDEN. Members are told through
// onMessageDeleted (and the change log) and onConversationUpdated;
// deleting a reply also publishes its root's THREAD_UPDATED change.
func (s *Service) DeleteMessage(ctx context.Context, caller confab.Identity, conversationID, messageID string) (*confab.Message, error) {
	c, _, err := s.memberOf(ctx, caller, conversationID)
	rank := -1 // not known to moderate
	if confab.ErrorCode(err) == confab.CodeNotFound {
		c, rank, err = s.moderator(ctx, caller, conversationID) // a server admin who is not a member
	}
	if err != nil {
		return nil, err
	}
	m, err := s.liveMessage(ctx, conversationID, messageID)
	if err != nil {
		return nil, err
	}
	if m.UserID != caller.UserID && rank < 0 {
		c, rank, err = s.moderator(ctx, caller, conversationID)
		if confab.ErrorCode(err) == confab.CodeForbidden {
			err = confab.Errorf(confab.CodeForbidden, "Only the author or a moderator can delete a message.")
		}
		if err != nil {
			return nil, err
		}
	}
	if m.UserID != caller.UserID {
		if err := over(rank, c, m.UserID); err != nil {
			return nil, err
		}
	}
	if c.ArchivedAt != nil {
		return nil, confab.Errorf(confab.CodeForbidden, "This conversation is archived: it is read-only.")
	}
	now := s.nowUTC()
	m, c, err = s.store.DeleteMessage(ctx, conversationID, messageID, caller.UserID, now)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errMessageNotFound()
	}
	if err != nil {
		return nil, err
	}
	s.messageDeleted(ctx, m, c, caller.UserID, now)
	if m.DeletedBy != "" {
		return m, s.audit(ctx, &confab.AuditEntry{At: now, ActorID: caller.UserID, Action: confab.AuditMessageDeleted,
			ConversationID: conversationID, UserID: m.UserID, MessageID: messageID})
	}
	return m, nil
}

// messageDeleted tells members that byUserID deleted m at now: m as the
// store returned it (as it was) becomes the deletion that the caller, the
// onMessageDeleted subscribers and the change log see (Message.deletedAt
// reads UpdatedAt of a deleted message); c is the conversation after.
func (s *Service) messageDeleted(ctx context.Context, m *confab.Message, c *confab.Conversation, byUserID string, now time.Time) {
	m.Deleted, m.UpdatedAt = true, &now
	if byUserID != "" && m.UserID != byUserID {
		m.DeletedBy = byUserID // a moderator's delete, as the store keeps it
	}
	s.publish(ctx, confab.ConversationTopic(m.ConversationID), &confab.Event{
		Kind: confab.EventMessageDeleted, ConversationID: m.ConversationID, Message: m, At: now,
		Change: messageChange(confab.ChangeMessageDeleted, tombstone(m), byUserID, now),
	})
	if m.ParentMessageID != "" {
		s.publishThreadUpdated(ctx, m, byUserID, now)
	}
	s.publishConversation(ctx, c)
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

// tombstone is how a deleted message appears in the change log: no
// content and no mentions, deleted at its UpdatedAt.
func tombstone(m *confab.Message) *confab.Message {
	t := *m
	t.Content, t.Mentions, t.Deleted = "", nil, true
	return &t
}
