package chat

import (
	"context"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// Push registers the callers' Web Push subscriptions and mobile devices.
// It is apart from Service's store because only a store with a push table
// has one; a server with no push channel has a nil *Push, whose
// operations answer CodeUnavailable.
type Push struct {
	store     confab.PushStore
	publicKey string
	devices   Devices
	now       func() time.Time
}

// Devices says which mobile push services are on; registering a device of
// another is refused, as nothing would reach it.
type Devices struct {
	APNsTopic string // the bundle id of the app APNs pushes to; APNs is off when empty
	FCM       bool
}

// NewPush returns the registration service on store; publicKey is the
// VAPID public key (base64url) browsers subscribe with, "" when Web Push
// is off (and only devices register).
func NewPush(store confab.PushStore, publicKey string) *Push {
	return &Push{store: store, publicKey: publicKey, now: time.Now}
}

// WithDevices turns on the registration of the devices of d and returns p.
func (p *Push) WithDevices(d Devices) *Push {
	p.devices = d
	return p
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
	if p.publicKey == "" {
		return confab.Errorf(confab.CodeUnavailable, "Web Push is not enabled on this server.")
	}
	s := &confab.PushSubscription{Endpoint: endpoint, UserID: caller.UserID, P256dh: p256dh, Auth: auth,
		CreatedAt: p.now().UTC().Truncate(time.Millisecond)}
	if platform, _ := s.Platform(); platform != "" {
		// A device registers with RegisterDevice, which checks its platform is on.
		return confab.Errorf(confab.CodeInvalid, "The push endpoint must be an https:// URL.")
	}
	if err := s.Validate(); err != nil {
		return err
	}
	return p.store.PutPushSubscription(ctx, s)
}

// RegisterDevice stores the caller's device token of platform (moving it
// to the caller if another user had it: the device's user changed). An
// APNs token is hex, taken in either case; bundleID, when given for APNs,
// must be the app the server pushes to; FCM ignores it.
func (p *Push) RegisterDevice(ctx context.Context, caller confab.Identity, platform confab.PushPlatform, token string, bundleID *string) error {
	if err := p.check(caller); err != nil {
		return err
	}
	switch {
	case platform == confab.PushAPNs && p.devices.APNsTopic == "":
		return confab.Errorf(confab.CodeUnavailable, "APNs push is not enabled on this server.")
	case platform == confab.PushFCM && !p.devices.FCM:
		return confab.Errorf(confab.CodeUnavailable, "FCM push is not enabled on this server.")
	case platform != confab.PushAPNs && platform != confab.PushFCM:
		return confab.Errorf(confab.CodeInvalid, "Unknown push platform %q.", platform)
	case platform == confab.PushAPNs && bundleID != nil && *bundleID != p.devices.APNsTopic:
		return confab.Errorf(confab.CodeInvalid, "This server pushes to the app %s only.", p.devices.APNsTopic)
	}
	s := &confab.PushSubscription{Endpoint: confab.DeviceEndpoint(platform, deviceToken(platform, token)), UserID: caller.UserID,
		CreatedAt: p.now().UTC().Truncate(time.Millisecond)}
	if err := s.Validate(); err != nil {
		return err
	}
	return p.store.PutPushSubscription(ctx, s)
}

// UnregisterDevice removes the caller's registration of the device token
// and reports whether there was one; another user's is left alone.
func (p *Push) UnregisterDevice(ctx context.Context, caller confab.Identity, platform confab.PushPlatform, token string) (bool, error) {
	if err := p.check(caller); err != nil {
		return false, err
	}
	if platform != confab.PushAPNs && platform != confab.PushFCM {
		return false, confab.Errorf(confab.CodeInvalid, "Unknown push platform %q.", platform)
	}
	return p.store.DeletePushSubscription(ctx, caller.UserID, confab.DeviceEndpoint(platform, deviceToken(platform, token)))
}

// deviceToken is the stored form of a token: APNs hex in lower case
// (iOS formats it either way), FCM's as it is.
func deviceToken(platform confab.PushPlatform, token string) string {
	if platform == confab.PushAPNs && len(token) <= 2*confab.MaxAPNsTokenBytes {
		return strings.ToLower(token)
	}
	return token
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
