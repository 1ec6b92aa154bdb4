package chat

import (
	"context"

	"github.com/confab-chat/confab"
)

// maxPresenceFanout bounds the conversations a presence change is published
// to.
const maxPresenceFanout = 1000

// UpdateUserPresence sets the caller's own presence explicitly (the seed's
// mutation). Presence is also derived from connections: see Connect.
func (s *Service) UpdateUserPresence(ctx context.Context, caller confab.Identity, userID string, isOnline bool) (*confab.User, error) {
	if err := s.requireSelf(caller, userID); err != nil {
		return nil, err
	}
	return s.setPresence(ctx, userID, isOnline)
}

// Connect records a live connection of userID on this node. The first one
// makes the user online; calling the returned release (once) ends it, and
// when the last one ends the user goes offline with lastSeen set. Members of
// the user's conversations are told either way.
func (s *Service) Connect(ctx context.Context, userID string) (release func()) {
	s.presenceMu.Lock()
	s.conns[userID]++
	first := s.conns[userID] == 1
	s.presenceMu.Unlock()
	if first {
		s.setPresenceLogged(ctx, userID, true)
	}
	var released bool
	return func() {
		if released {
			return
		}
		released = true
		s.presenceMu.Lock()
		s.conns[userID]--
		last := s.conns[userID] == 0
		if last {
			delete(s.conns, userID)
		}
		s.presenceMu.Unlock()
		if last {
			s.setPresenceLogged(context.WithoutCancel(ctx), userID, false)
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
	ids, err := s.store.ListConversationIDs(ctx, userID, maxPresenceFanout)
	if err != nil {
		return u, err
	}
	for _, id := range ids {
		s.publish(ctx, confab.ConversationTopic(id), &confab.Event{
			Kind: confab.EventPresenceUpdated, ConversationID: id, User: u, At: now,
		})
	}
	return u, nil
}
