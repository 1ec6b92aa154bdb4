package chat

import (
	"context"
	"sync"
	"time"

	"github.com/confab-chat/confab"
)

// maxPresenceFanout bounds the conversations a presence change is published
// to.
const maxPresenceFanout = 1000

// UpdateUserPresence sets the caller's own presence explicitly (the seed's
// mutation). Presence is also derived from connections: see Connect. Only
// members of the user's conversations are told, and nobody when the user
// hides presence (HidePresence).
func (s *Service) UpdateUserPresence(ctx context.Context, caller confab.Identity, userID string, isOnline bool) (*confab.User, error) {
	if err := s.requireSelf(caller, userID); err != nil {
		return nil, err
	}
	return s.setPresence(ctx, userID, isOnline)
}

// Connect records a live connection of userID. The first connection
// anywhere (on any node) makes the user online; calling the returned
// release (once) ends it, and when the last connection anywhere ends the
// user goes offline with lastSeen set. Members of the user's conversations
// are told either way. Counts live in the store per node (PresenceStore),
// so presence is right when a user is connected to several nodes.
func (s *Service) Connect(ctx context.Context, userID string) (release func()) {
	if s.adjustConnections(ctx, userID, +1) == 1 {
		s.setPresenceLogged(ctx, userID, true)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx := context.WithoutCancel(ctx)
			if s.adjustConnections(ctx, userID, -1) == 0 {
				s.setPresenceLogged(ctx, userID, false)
			}
		})
	}
}

// adjustConnections changes this node's count for userID and returns the
// total over live nodes, or -1 (no presence change) when the store fails.
func (s *Service) adjustConnections(ctx context.Context, userID string, delta int) int {
	now := s.nowUTC()
	total, err := s.store.AdjustConnections(ctx, userID, s.cfg.NodeID, delta, now, now.Add(-3*s.cfg.PresenceHeartbeat))
	if err != nil {
		s.logger.WarnContext(ctx, "connection count not updated", "user_id", userID, "err", err)
		return -1
	}
	return total
}

// heartbeat restamps this node's connection counts until Close.
func (s *Service) heartbeat() {
	defer close(s.beatDone)
	t := time.NewTicker(s.cfg.PresenceHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.stopBeat:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.store.TouchConnections(ctx, s.cfg.NodeID, s.nowUTC()); err != nil {
				s.logger.Warn("presence heartbeat failed", "node_id", s.cfg.NodeID, "err", err)
			}
			cancel()
		}
	}
}

func (s *Service) setPresenceLogged(ctx context.Context, userID string, online bool) {
	if _, err := s.setPresence(ctx, userID, online); err != nil {
		s.logger.WarnContext(ctx, "presence not updated", "user_id", userID, "online", online, "err", err)
	}
}

func (s *Service) setPresence(ctx context.Context, userID string, online bool) (*confab.User, error) {
	now := s.nowUTC()
	upd := confab.UserUpdate{IsOnline: &online, UpdatedAt: now}
	if !online {
		upd.LastSeen = &now
	}
	u, err := s.store.UpdateUser(ctx, userID, upd)
	if err != nil {
		return nil, err
	}
	if u.HidePresence {
		return u, nil // nobody else may learn of it
	}
	return u, s.publishPresence(ctx, u)
}

// publishPresence tells the members of every conversation of u that u's
// presence changed. The event carries u as a member sees it (view), which
// is what every subscriber of onUserPresenceUpdated gets.
func (s *Service) publishPresence(ctx context.Context, u *confab.User) error {
	u = s.view(u, true)
	ids, err := s.store.ListConversationIDs(ctx, u.UserID, maxPresenceFanout)
	if err != nil {
		return err
	}
	now := s.nowUTC()
	for _, id := range ids {
		s.publish(ctx, confab.ConversationTopic(id), &confab.Event{
			Kind: confab.EventPresenceUpdated, ConversationID: id, User: u, At: now,
		})
	}
	return nil
}
