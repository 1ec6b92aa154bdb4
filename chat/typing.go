package chat

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// Typing indicators (issue #12) are ephemeral: setTyping publishes an
// EventTyping on the conversation's topic and stores nothing, so they reach
// every node through the broker like messages do, and cost no write.
//
// Expiry lives with the subscriber, not the typist: each onTyping stream
// keeps when each typist's last typing=true runs out and reports
// typing=false itself once it has. A typist whose client went quiet, or
// whose node died, therefore stops "typing" everywhere without any state
// or timer on the typist's side. A stream holds at most one timer, armed
// only while someone in its conversation types, and at most
// maxTypists entries.

const (
	// DefaultTypingTimeout is Config.TypingTimeout when it is zero.
	DefaultTypingTimeout = 5 * time.Second
	// DefaultTypingPerSecond is Config.TypingPerSecond when it is zero:
	// each user's setTyping calls per second, in bursts of twice that.
	DefaultTypingPerSecond = 2

	// maxTypists bounds the typists one onTyping stream tracks: every
	// typist is a member, so this is only reached if the broker carries
	// something no member sent; typing=true from more is dropped.
	maxTypists = confab.MaxParticipants
)

// typingDefaults fills in the typing settings of cfg (called by New).
func typingDefaults(cfg *Config) {
	if cfg.TypingTimeout <= 0 {
		cfg.TypingTimeout = DefaultTypingTimeout
	}
	if cfg.TypingPerSecond == 0 {
		cfg.TypingPerSecond = DefaultTypingPerSecond
	}
}

// SetTyping tells the other members of a conversation of the caller that
// the caller started (typing) or stopped typing. Nothing is stored. A
// typing=true lasts Config.TypingTimeout unless repeated: clients refresh
// it about every half of that while the user types. Each user has a budget
// of TypingPerSecond calls (RATE_LIMITED with the wait beyond it). It
// reports true once the notice is handed to the broker.
func (s *Service) SetTyping(ctx context.Context, caller confab.Identity, conversationID string, typing bool) (bool, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return false, err
	}
	if ok, wait := s.typingLimit.Allow(caller.UserID); !ok {
		return false, confab.Limited(wait, "Too many typing notices: at most %g per second.", s.cfg.TypingPerSecond)
	}
	now := s.nowUTC()
	s.publish(ctx, confab.ConversationTopic(conversationID), &confab.Event{
		Kind: confab.EventTyping, ConversationID: conversationID, At: now,
		Typing: &confab.Typing{ConversationID: conversationID, UserID: caller.UserID, Typing: typing, At: now},
	})
	return true, nil
}

// OnTyping streams who starts and stops typing in a conversation of the
// caller, never the caller themself (on any of their devices). Each typist
// is reported once when they start, not on every refresh, and once when
// they stop: by setTyping(false), by sending a message, or when their
// typing ran out (Config.TypingTimeout after the last typing=true this
// stream received).
func (s *Service) OnTyping(ctx context.Context, caller confab.Identity, conversationID string) (<-chan *confab.Typing, error) {
	if err := s.requireMember(ctx, caller, conversationID); err != nil {
		return nil, err
	}
	ts := &typingStream{
		stream: stream[*confab.Typing]{hooks: confab.StreamHooksFrom(ctx), stats: &s.stats, out: make(chan *confab.Typing, s.cfg.StreamQueue),
			member: caller.UserID},
		svc:     s,
		convID:  conversationID,
		self:    caller.UserID,
		expires: make(map[string]time.Time),
	}
	ts.mu.Lock() // no delivery until sub is set
	defer ts.mu.Unlock()
	sub, err := s.broker.Subscribe(confab.ConversationTopic(conversationID), ts.deliver)
	if err != nil {
		s.stats.brokerErrors.Add(1)
		return nil, err
	}
	ts.sub = sub
	context.AfterFunc(ctx, ts.stop)
	if ts.hooks.Started != nil {
		ts.hooks.Started(ts.skip)
	}
	return ts.out, nil
}

// typingStream is one onTyping subscription: a stream plus the typists it
// has reported as typing, with the time their typing runs out.
type typingStream struct {
	stream[*confab.Typing] // its mu guards the fields below too

	svc    *Service
	convID string
	self   string // the subscriber, whose own typing is never reported

	expires   map[string]time.Time // guarded by mu: typing user → when their typing runs out
	stopTimer func() bool          // guarded by mu: stops the armed expiry timer; nil when none is armed
	timerAt   time.Time            // guarded by mu: when the armed timer fires
}

// deliver is the broker callback.
func (ts *typingStream) deliver(ev *confab.Event) {
	var userID string
	var typing bool
	switch {
	case ts.removes(ev):
		ts.mu.Lock()
		ts.endRemoved()
		ts.arm() // closed: stops the timer
		ts.mu.Unlock()
		return
	case ev.Kind == confab.EventTyping && ev.Typing != nil:
		userID, typing = ev.Typing.UserID, ev.Typing.Typing
	case ev.Kind == confab.EventMessageSent && ev.Message != nil:
		userID = ev.Message.UserID // a typist who sends has stopped typing
	default:
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.typing(userID, typing, ev.At)
	ts.arm()
}

// typing records that userID started or stopped typing and reports it if
// that changes what the subscriber was told. Callers hold mu, and arm the
// timer afterwards.
func (ts *typingStream) typing(userID string, typing bool, at time.Time) {
	if userID == ts.self || ts.closed {
		return
	}
	_, was := ts.expires[userID]
	switch {
	case typing && !was && len(ts.expires) >= maxTypists:
		return
	case typing:
		ts.expires[userID] = ts.svc.now().Add(ts.svc.cfg.TypingTimeout)
	case was:
		delete(ts.expires, userID)
	}
	if typing != was {
		ts.push(&confab.Typing{ConversationID: ts.convID, UserID: userID, Typing: typing, At: at})
	}
}

// arm keeps one timer armed for the earliest expiry, or none when nobody
// types. A timer armed for an earlier time is kept: when it fires it
// expires what is due and arms the next. Callers hold mu.
func (ts *typingStream) arm() {
	if len(ts.expires) == 0 || ts.closed {
		if ts.stopTimer != nil {
			ts.stopTimer()
			ts.stopTimer = nil
		}
		return
	}
	var first time.Time
	for _, t := range ts.expires {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	if ts.stopTimer != nil {
		if !ts.timerAt.After(first) {
			return
		}
		ts.stopTimer()
	}
	ts.timerAt = first
	ts.stopTimer = ts.svc.afterFunc(first.Sub(ts.svc.now()), ts.expire)
}

// expire reports typing=false for every typist whose typing ran out, and
// arms the timer for the next.
func (ts *typingStream) expire() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.stopTimer = nil
	if ts.closed {
		return
	}
	now := ts.svc.now()
	for userID, t := range ts.expires { // deleting while ranging is safe
		if !t.After(now) {
			ts.typing(userID, false, now.UTC().Truncate(time.Millisecond))
		}
	}
	ts.arm()
}

// stop ends the stream when its context is done.
func (ts *typingStream) stop() {
	ts.mu.Lock()
	ts.closeLocked()
	ts.arm() // closed: stops the timer
	ts.mu.Unlock()
	ts.sub.Unsubscribe()
}
