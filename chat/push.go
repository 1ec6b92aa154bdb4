package chat

import (
	"context"
	"time"

	"github.com/confab-chat/confab"
)

// Push registers the callers' Web Push subscriptions. It is apart from
// Service's store because only a store with a push table has one; a
// server without Web Push has a nil *Push, whose operations answer
// CodeUnavailable.
type Push struct {
	store     confab.PushStore
	publicKey string
	now       func() time.Time
}

// NewPush returns the registration service on store; publicKey is the
// VAPID public key (base64url) browsers subscribe with.
func NewPush(store confab.PushStore, publicKey string) *Push {
	return &Push{store: store, publicKey: publicKey, now: time.Now}
}

// WithPush turns on the push operations (Service.Push).
func WithPush(p *Push) Option { return func(s *Service) { s.push = p } }

// Push returns the push registration service; nil (whose methods answer
// CodeUnavailable) when Web Push is off.
func (s *Service) Push() *Push { return s.push }

func (p *Push) check(caller confab.Identity) error {
	if p == nil {
		return confab.Errorf(confab.CodeUnavailable, "Push notifications are not enabled on this server.")
	}
	if caller.UserID == "" {
		return confab.Errorf(confab.CodeUnauthenticated, "Authentication required.")
	}
	return nil
}

// PublicKey returns the VAPID public key a browser subscribes with
// (applicationServerKey), or "" when push is off.
func (p *Push) PublicKey() string {
	if p == nil {
		return ""
	}
	return p.publicKey
}

// Register stores the caller's subscription (moving the endpoint to the
// caller if another user had it: the browser's user changed).
func (p *Push) Register(ctx context.Context, caller confab.Identity, endpoint, p256dh, auth string) error {
	if err := p.check(caller); err != nil {
		return err
	}
	s := &confab.PushSubscription{Endpoint: endpoint, UserID: caller.UserID, P256dh: p256dh, Auth: auth,
		CreatedAt: p.now().UTC().Truncate(time.Millisecond)}
	if err := s.Validate(); err != nil {
		return err
	}
	return p.store.PutPushSubscription(ctx, s)
}

// Unregister removes the caller's subscription of endpoint and reports
// whether there was one; another user's is left alone.
func (p *Push) Unregister(ctx context.Context, caller confab.Identity, endpoint string) (bool, error) {
	if err := p.check(caller); err != nil {
		return false, err
	}
	return p.store.DeletePushSubscription(ctx, caller.UserID, endpoint)
}

// SettingsUpdate changes a user's notification settings; nil fields stay.
type SettingsUpdate struct {
	Level                          *confab.NotifyLevel
	Previews                       *bool
	QuietStart, QuietEnd, TimeZone *string
	Mute                           map[string]*time.Time // conversation → end of the mute (nil: until unmuted)
	Unmute                         []string
	EmailDigests                   *bool // false opts out of e-mail digests
}

// Settings returns the caller's notification settings.
func (p *Push) Settings(ctx context.Context, caller confab.Identity) (*confab.NotificationSettings, error) {
	if err := p.check(caller); err != nil {
		return nil, err
	}
	all, err := p.store.GetNotificationSettings(ctx, []string{caller.UserID})
	if err != nil {
		return nil, err
	}
	if s := all[caller.UserID]; s != nil {
		return s, nil
	}
	return &confab.NotificationSettings{Level: confab.NotifyAll}, nil
}

// UpdateSettings applies u to the caller's settings and returns them.
// Mutes that have ended are dropped, so MaxMutes counts live ones. Two
// concurrent updates of one user may lose one (the last write wins).
func (p *Push) UpdateSettings(ctx context.Context, caller confab.Identity, u SettingsUpdate) (*confab.NotificationSettings, error) {
	s, err := p.Settings(ctx, caller)
	if err != nil {
		return nil, err
	}
	now := p.now()
	if u.Level != nil {
		s.Level = *u.Level
	}
	if u.Previews != nil {
		s.HidePreviews = !*u.Previews
	}
	if u.EmailDigests != nil {
		s.EmailDigestsOff = !*u.EmailDigests
	}
	for _, f := range []struct{ dst, src *string }{{&s.QuietStart, u.QuietStart}, {&s.QuietEnd, u.QuietEnd}, {&s.TimeZone, u.TimeZone}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if s.Mutes == nil {
		s.Mutes = map[string]*time.Time{}
	}
	for id, until := range u.Mute {
		if len(id) > maxMuteIDBytes {
			return nil, confab.Errorf(confab.CodeInvalid, "A conversation id is at most %d bytes.", maxMuteIDBytes)
		}
		s.Mutes[id] = until
	}
	for _, id := range u.Unmute {
		delete(s.Mutes, id)
	}
	for id, until := range s.Mutes {
		if until != nil && !now.Before(*until) {
			delete(s.Mutes, id)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := p.store.PutNotificationSettings(ctx, caller.UserID, s); err != nil {
		return nil, err
	}
	return s, nil
}

// maxMuteIDBytes bounds a muted conversation's id (ids are UUIDs; the
// bound keeps junk out of the stored settings).
const maxMuteIDBytes = 128
