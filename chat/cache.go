package chat

import (
	"context"
	"sync"

	"github.com/confab-chat/confab"
)

// cache keeps what nearly every operation checks: a conversation's
// members, their roles and its settings (cachedConv), and the users each
// user blocks. Whatever changes them drops the entry at once on this node
// and tells every other node through confab.ControlTopic
// (EventMembershipChanged, EventBlocksChanged), which drop it too; the
// next read fills it from the store.
//
// A read that began before a drop must not put back what it read: every
// drop bumps gen, and a read caches its result only when gen is unchanged
// since it began.
type cache struct {
	mu     sync.RWMutex                   // read-locked on every membership check and live delivery
	gen    uint64                         // guarded by mu: bumped by every drop
	convs  map[string]*cachedConv         // guarded by mu: by conversation id
	blocks map[string]map[string]struct{} // guarded by mu: user id → the ids they block
}

// cachedConv is a conversation as read when it was cached: its members,
// roles, settings, Direct and ArchivedAt are current (any change drops
// it); its counters (LastSeq, LastMessage…) are not, so nobody reads them
// here. Shared by every caller: read-only.
type cachedConv struct {
	conv    *confab.Conversation
	members map[string]*confab.Member
}

// maxCachedConversations and maxCachedBlockLists bound the cache; when
// one is full it is cleared wholesale (it only saves reads).
const (
	maxCachedConversations = 100_000
	maxCachedBlockLists    = 100_000
)

// watchControl subscribes this service to confab.ControlTopic, once. A
// broker that refuses leaves the cache of this node unaware of other
// nodes' changes: logged, since membership checks then lag.
func (s *Service) watchControl() {
	if s.broker == nil { // a service built for its pure functions (tests)
		return
	}
	sub, err := s.broker.Subscribe(confab.ControlTopic, s.applyControl)
	if err != nil {
		s.stats.brokerErrors.Add(1)
		s.logger.Error("control topic not subscribed: membership changes of other nodes are not seen", "err", err)
		return
	}
	s.control = sub
}

// applyControl drops what an event of the control topic says changed.
func (s *Service) applyControl(ev *confab.Event) {
	switch ev.Kind {
	case confab.EventMembershipChanged:
		s.dropConversation(ev.ConversationID)
	case confab.EventBlocksChanged:
		if ev.User != nil {
			s.dropBlocks(ev.User.UserID)
		}
	}
}

// membershipChanged drops the cached conversation here and on every node:
// every change of members, roles, settings or the archived state calls it
// right after its commit.
func (s *Service) membershipChanged(ctx context.Context, conversationID string) {
	s.dropConversation(conversationID)
	s.publish(ctx, confab.ControlTopic, &confab.Event{Kind: confab.EventMembershipChanged, ConversationID: conversationID, At: s.nowUTC()})
}

// MembershipChanged is membershipChanged for changes made outside this
// service (the admin API archiving or deleting a conversation).
func (s *Service) MembershipChanged(ctx context.Context, conversationID string) {
	s.membershipChanged(ctx, conversationID)
}

// blocksChanged drops the cached block list of userID here and on every
// node.
func (s *Service) blocksChanged(ctx context.Context, userID string) {
	s.dropBlocks(userID)
	s.publish(ctx, confab.ControlTopic, &confab.Event{Kind: confab.EventBlocksChanged, User: &confab.User{UserID: userID}, At: s.nowUTC()})
}

func (s *Service) dropConversation(conversationID string) {
	s.cache.mu.Lock()
	s.cache.gen++
	delete(s.cache.convs, conversationID)
	s.cache.mu.Unlock()
}

func (s *Service) dropBlocks(userID string) {
	s.cache.mu.Lock()
	s.cache.gen++
	delete(s.cache.blocks, userID)
	s.cache.mu.Unlock()
}

// cachedConversation returns the conversation (see cachedConv), from the
// cache or read from the store. CodeNotFound when it does not exist.
func (s *Service) cachedConversation(ctx context.Context, conversationID string) (*cachedConv, error) {
	s.cache.mu.RLock()
	e, ok := s.cache.convs[conversationID]
	s.cache.mu.RUnlock()
	if ok {
		return e, nil
	}
	_, e, err := s.loadConversation(ctx, conversationID)
	return e, err
}

// loadConversation reads the conversation from the store, caches it
// unless something changed meanwhile, and returns it both as read (the
// caller's to keep) and as cached.
func (s *Service) loadConversation(ctx context.Context, conversationID string) (*confab.Conversation, *cachedConv, error) {
	gen := s.cacheGen()
	c, err := s.store.GetConversation(ctx, conversationID)
	if err != nil {
		return nil, nil, err
	}
	return c, s.cacheConversation(c, gen), nil
}

// cacheGen returns the drop count that a read about to begin compares
// with when it is done (see cache).
func (s *Service) cacheGen() uint64 {
	s.cache.mu.RLock()
	defer s.cache.mu.RUnlock()
	return s.cache.gen
}

// cacheConversation caches a copy of c, read (or written) since gen,
// unless something was dropped since, and returns the copy.
func (s *Service) cacheConversation(c *confab.Conversation, gen uint64) *cachedConv {
	shared := *c
	shared.Members = append([]confab.Member(nil), c.Members...)
	e := &cachedConv{conv: &shared, members: make(map[string]*confab.Member, len(shared.Members))}
	for i := range shared.Members {
		e.members[shared.Members[i].UserID] = &shared.Members[i]
	}
	s.cache.mu.Lock()
	if s.cache.gen == gen {
		if len(s.cache.convs) >= maxCachedConversations {
			clear(s.cache.convs)
		}
		s.cache.convs[c.ConversationID] = e
	}
	s.cache.mu.Unlock()
	return e
}

// cachedMembers returns the conversations among ids that are cached, by
// id (sharesConversation).
func (s *Service) cachedMembers(ids []string) map[string]*cachedConv {
	out := make(map[string]*cachedConv)
	s.cache.mu.RLock()
	defer s.cache.mu.RUnlock()
	for _, id := range ids {
		if e, ok := s.cache.convs[id]; ok {
			out[id] = e
		}
	}
	return out
}

// blockedBy returns the ids userID blocks (cached; read-only).
func (s *Service) blockedBy(ctx context.Context, userID string) (map[string]struct{}, error) {
	s.cache.mu.RLock()
	set, ok := s.cache.blocks[userID]
	gen := s.cache.gen
	s.cache.mu.RUnlock()
	if ok {
		return set, nil
	}
	blocks, err := s.store.ListBlocks(ctx, userID, confab.MaxBlocks)
	if err != nil {
		return nil, err
	}
	set = make(map[string]struct{}, len(blocks))
	for _, b := range blocks {
		set[b.BlockedID] = struct{}{}
	}
	s.cache.mu.Lock()
	if s.cache.gen == gen {
		if len(s.cache.blocks) >= maxCachedBlockLists {
			clear(s.cache.blocks)
		}
		s.cache.blocks[userID] = set
	}
	s.cache.mu.Unlock()
	return set, nil
}
