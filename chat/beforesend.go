package chat

import (
	"context"

	"github.com/confab-chat/confab"
)

// BeforeSend is the one synchronous hook a message passes before it is
// stored (moderation, a profanity filter, a bot): it returns the content
// to store (the same, or rewritten) or an error that refuses the send.
// Its errors reach the sender as they are, so an implementation returns
// *confab.Error with a user-safe Message; it decides itself what its own
// failures (timeouts, a broken endpoint) mean (fail open or closed).
type BeforeSend interface {
	BeforeSend(ctx context.Context, m *confab.Message) (content string, err error)
}

// WithBeforeSend installs the before-send hook.
func WithBeforeSend(h BeforeSend) Option { return func(s *Service) { s.beforeSend = h } }

// checkBeforeSend runs the hook on the message about to be sent (in
// validated, rootID its thread root) and applies a rewrite to in.Content.
// A rewrite obeys the content rules a sender's content does.
func (s *Service) checkBeforeSend(ctx context.Context, caller confab.Identity, in *SendMessageInput, rootID string, mentions []string) error {
	if s.beforeSend == nil {
		return nil
	}
	content, err := s.beforeSend.BeforeSend(ctx, &confab.Message{ConversationID: in.ConversationID, UserID: caller.UserID,
		Content: in.Content, MessageType: in.MessageType, ParentMessageID: rootID, Mentions: mentions})
	if err != nil {
		return err
	}
	if content == in.Content {
		return nil
	}
	if err := s.checkContent(content); err != nil {
		return confab.Errorf(confab.CodeInvalid, "The message was rewritten by a filter into one that cannot be sent.")
	}
	in.Content = content
	return nil
}
