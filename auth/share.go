package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/confab-chat/confab"
)

// revocationPublishTimeout bounds the broker publish that tells the other
// nodes of a revocation; a slow broker must not hold up a sign-out, which is
// in the store already and reaches every node within RevocationCheck anyway.
const revocationPublishTimeout = 5 * time.Second

// peerLink is how a Service reaches the other nodes (ShareRevocations).
type peerLink struct {
	broker confab.Broker
	logger *slog.Logger
}

// ShareRevocations makes revocations take effect on every node at once,
// rather than within Config.RevocationCheck: each revocation on this node
// (Logout, SignOutUser, disabling or deleting an account) is published on
// confab.RevocationTopic, and each one received from b drops that user's
// cached tokens here, so they are checked against the store again at their
// next use, and runs the OnRevoke hooks (the server closes the user's
// WebSockets). A node also receives its own revocations; applying one twice
// does no harm. Call it once, before serving; the subscription ends the
// sharing.
func (s *Service) ShareRevocations(b confab.Broker, logger *slog.Logger) (confab.Subscription, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sub, err := b.Subscribe(confab.RevocationTopic, s.applyRevocation)
	if err != nil {
		return nil, err
	}
	s.hooksMu.Lock()
	s.peers = &peerLink{broker: b, logger: logger}
	s.hooksMu.Unlock()
	return sub, nil
}

// applyRevocation handles a revocation published by a node. It runs on a
// broker goroutine and does not block: the cache drop is a scan under a
// mutex and the hooks must not block.
func (s *Service) applyRevocation(ev *confab.Event) {
	if ev.Kind != confab.EventSessionsRevoked || ev.User == nil || ev.User.UserID == "" {
		return
	}
	userID := ev.User.UserID
	s.cache.drop(func(e cacheEntry) bool { return e.id.UserID == userID })
	s.runHooks(userID)
}

// publishRevocation tells the other nodes that userID's sign-ins were
// revoked. A failure is logged, not returned: the revocation is stored, so
// other nodes still refuse the tokens within RevocationCheck.
func (s *Service) publishRevocation(ctx context.Context, userID string) {
	s.hooksMu.Lock()
	p := s.peers
	s.hooksMu.Unlock()
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revocationPublishTimeout)
	defer cancel()
	ev := &confab.Event{Kind: confab.EventSessionsRevoked, User: &confab.User{UserID: userID}, At: s.now().UTC()}
	if err := p.broker.Publish(ctx, confab.RevocationTopic, ev); err != nil {
		p.logger.WarnContext(ctx, "revocation not shared with other nodes; they notice within the revocation check", "user_id", userID, "err", err)
	}
}
