package chat

import (
	"context"
	"unicode"
	"unicode/utf8"

	"github.com/confab-chat/confab"
)

// AddReaction adds the caller's reaction with key to a live message of a
// conversation of theirs and returns the message. Adding a reaction the
// caller already has changes nothing and publishes nothing, so a retried
// addReaction is one reaction. A key beyond Config.MaxReactionKeys distinct
// keys on the message is RATE_LIMITED. Reactions share the send budget.
func (s *Service) AddReaction(ctx context.Context, caller confab.Identity, conversationID, messageID, key string) (*confab.Message, error) {
	r, err := s.reaction(ctx, caller, conversationID, messageID, key)
	if err != nil {
		return nil, err
	}
	added, m, err := s.store.AddReaction(ctx, r, s.cfg.MaxReactionKeys)
	switch confab.ErrorCode(err) {
	case "":
	case confab.CodeNotFound:
		return nil, errMessageNotFound()
	case confab.CodeLimited:
		return nil, confab.Errorf(confab.CodeLimited, "A message can have at most %d different reactions.", s.cfg.MaxReactionKeys)
	default:
		return nil, err
	}
	if added {
		s.publishReaction(ctx, confab.ChangeReactionAdded, r, m)
	}
	return m, nil
}

// RemoveReaction takes back the caller's reaction with key and returns the
// message; without one it changes and publishes nothing.
func (s *Service) RemoveReaction(ctx context.Context, caller confab.Identity, conversationID, messageID, key string) (*confab.Message, error) {
	r, err := s.reaction(ctx, caller, conversationID, messageID, key)
	if err != nil {
		return nil, err
	}
	removed, m, err := s.store.RemoveReaction(ctx, r)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, errMessageNotFound()
	}
	if err != nil {
		return nil, err
	}
	if removed {
		s.publishReaction(ctx, confab.ChangeReactionRemoved, r, m)
	}
	return m, nil
}

// reaction checks a reaction request (membership, the conversation's
// rules, key, send budget) and returns the reaction it stands for. Adding
// and taking back alike need the settings' React role, no mute and a
// conversation not archived (moderation.go).
func (s *Service) reaction(ctx context.Context, caller confab.Identity, conversationID, messageID, key string) (*confab.Reaction, error) {
	c, member, err := s.memberOf(ctx, caller, conversationID)
	if err != nil {
		return nil, err
	}
	if err := mayWrite(c, member, c.Settings.Effective().React, s.nowUTC()); err != nil {
		return nil, err
	}
	if !confab.ValidID(messageID) {
		return nil, errMessageNotFound()
	}
	if !ValidReactionKey(key) {
		return nil, confab.Errorf(confab.CodeInvalid, "key must be 1 to %d bytes of text without spaces or control characters.", confab.MaxReactionKeyBytes)
	}
	if err := s.allowWrite(caller); err != nil {
		return nil, err
	}
	return &confab.Reaction{ConversationID: conversationID, MessageID: messageID, UserID: caller.UserID, Key: key, At: s.nowUTC()}, nil
}

// ValidReactionKey reports whether key can name a reaction: an emoji
// sequence or a :name: of 1 to confab.MaxReactionKeyBytes bytes of valid
// UTF-8 with no white space and no control characters (joiners and
// variation selectors, which emoji sequences use, are allowed).
func ValidReactionKey(key string) bool {
	if key == "" || len(key) > confab.MaxReactionKeyBytes || !utf8.ValidString(key) {
		return false
	}
	for _, r := range key {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func (s *Service) publishReaction(ctx context.Context, kind confab.ChangeKind, r *confab.Reaction, m *confab.Message) {
	ch := messageChange(kind, m, r.UserID, r.At)
	ch.ReactionKey = r.Key
	s.publish(ctx, confab.ConversationTopic(m.ConversationID), &confab.Event{
		Kind: confab.EventChanged, ConversationID: m.ConversationID, Message: m, Change: ch, At: r.At,
	})
}

// Reactions returns the reaction counts of msgs (messages of one
// conversation of the caller), each key with at most usersPerKey user ids
// and ByUser set for the caller: one store read for a whole page. Deleted
// messages show none.
func (s *Service) Reactions(ctx context.Context, caller confab.Identity, msgs []*confab.Message, usersPerKey int) (map[string][]confab.ReactionCount, error) {
	var ids []string
	for _, m := range msgs {
		if !m.Deleted && m.ConversationID == msgs[0].ConversationID {
			ids = append(ids, m.MessageID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > confab.MaxPageLimit {
		return nil, confab.Errorf(confab.CodeInvalid, "At most %d messages at once.", confab.MaxPageLimit)
	}
	if usersPerKey < 1 || usersPerKey > confab.MaxPageLimit {
		return nil, confab.Errorf(confab.CodeInvalid, "limit must be between 1 and %d.", confab.MaxPageLimit)
	}
	if err := s.requireMember(ctx, caller, msgs[0].ConversationID); err != nil {
		return nil, err
	}
	return s.store.ListReactions(ctx, msgs[0].ConversationID, ids, caller.UserID, usersPerKey)
}
