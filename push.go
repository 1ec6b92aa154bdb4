package confab

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// The outbox channels of push notifications: one delivery per push
// subscription, its Target the subscription's endpoint.
const (
	ChannelWebPush = "webpush" // Web Push (RFC 8030), browsers
	ChannelAPNs    = "apns"    // Apple Push Notification service, iOS and macOS apps
	ChannelFCM     = "fcm"     // Firebase Cloud Messaging HTTP v1, Android apps
)

// PushPlatform is the kind of a push subscription: "" for a browser's Web
// Push subscription, else the mobile push service of a device token. A
// device registration is kept as a PushSubscription whose Endpoint is
// "<platform>:<token>" and whose keys are empty, so every store keeps it
// without a table of its own.
type PushPlatform string

// The mobile push platforms.
const (
	PushAPNs PushPlatform = "apns"
	PushFCM  PushPlatform = "fcm"
)

// Limits of device tokens, checked by PushSubscription.Validate.
const (
	// APNs device tokens are hex; 32 bytes today, and Apple says they may
	// grow, so up to 100 bytes are taken.
	MinAPNsTokenBytes = 32
	MaxAPNsTokenBytes = 100
	// FCM registration tokens are opaque, about 160 characters of
	// [A-Za-z0-9_:-] (and '.'); 1024 leaves room to grow.
	MinFCMTokenBytes = 32
	MaxFCMTokenBytes = 1024
)

// DeviceEndpoint is the Endpoint a device token is stored under.
func DeviceEndpoint(platform PushPlatform, token string) string {
	return string(platform) + ":" + token
}

// Platform returns the subscription's platform ("" for Web Push) and, for
// a device, its token.
func (s *PushSubscription) Platform() (PushPlatform, string) {
	for _, p := range []PushPlatform{PushAPNs, PushFCM} {
		if t, ok := strings.CutPrefix(s.Endpoint, string(p)+":"); ok {
			return p, t
		}
	}
	return "", ""
}

// Limits of a push subscription, all checked by PushSubscription.Validate.
const (
	// MaxPushEndpointBytes bounds an endpoint URL (browsers' are under
	// 500 bytes).
	MaxPushEndpointBytes = 2048
	// MaxPushSubscriptionsPerUser is how many subscriptions (browsers,
	// devices) a user keeps; registering one more drops the oldest, since
	// a reinstalled browser never unregisters its old one.
	MaxPushSubscriptionsPerUser = 10
	pushP256dhBytes             = 65 // an uncompressed P-256 point (RFC 8291 §3.1)
	pushAuthBytes               = 16 // the authentication secret (RFC 8291 §3.2)
)

// PushSubscription is a browser's Web Push subscription (the Push API's
// PushSubscription): where to POST, and the keys a payload is encrypted
// to (RFC 8291); or a device's registration with a mobile push service
// (PushPlatform). An endpoint belongs to one user at a time.
type PushSubscription struct {
	Endpoint  string
	UserID    string
	P256dh    string // base64url of the subscriber's P-256 public key
	Auth      string // base64url of the 16-byte authentication secret
	CreatedAt time.Time
}

// Validate checks a subscription a client sent: an https endpoint (http
// only on a loopback host, for tests and development) with no
// credentials, at most MaxPushEndpointBytes, and keys of RFC 8291's sizes;
// or a device token (validDeviceToken) and no keys.
func (s *PushSubscription) Validate() error {
	if p, token := s.Platform(); p != "" {
		if err := validDeviceToken(p, token); err != nil {
			return err
		}
		if s.P256dh != "" || s.Auth != "" {
			return Errorf(CodeInvalid, "A device registration carries no Web Push keys.")
		}
		return nil
	}
	if len(s.Endpoint) > MaxPushEndpointBytes {
		return Errorf(CodeInvalid, "The push endpoint is longer than %d bytes.", MaxPushEndpointBytes)
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Host == "" || u.User != nil || !(u.Scheme == "https" || u.Scheme == "http" && loopback(u.Hostname())) {
		return Errorf(CodeInvalid, "The push endpoint must be an https:// URL.")
	}
	if b, err := decodePushKey(s.P256dh); err != nil || len(b) != pushP256dhBytes || b[0] != 4 {
		return Errorf(CodeInvalid, "p256dh must be the base64url of an uncompressed P-256 public key (%d bytes).", pushP256dhBytes)
	}
	if b, err := decodePushKey(s.Auth); err != nil || len(b) != pushAuthBytes {
		return Errorf(CodeInvalid, "auth must be the base64url of %d bytes.", pushAuthBytes)
	}
	return nil
}

// validDeviceToken checks a device token's syntax: an APNs token is
// lowercase hex of MinAPNsTokenBytes to MaxAPNsTokenBytes bytes; an FCM
// token is MinFCMTokenBytes to MaxFCMTokenBytes of [A-Za-z0-9_:.-].
func validDeviceToken(p PushPlatform, token string) error {
	switch p {
	case PushAPNs:
		if n := len(token); n%2 != 0 || n < 2*MinAPNsTokenBytes || n > 2*MaxAPNsTokenBytes || !allOf(token, "0123456789abcdef") {
			return Errorf(CodeInvalid, "An APNs device token is %d to %d bytes in hex.", MinAPNsTokenBytes, MaxAPNsTokenBytes)
		}
	case PushFCM:
		const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-"
		if n := len(token); n < MinFCMTokenBytes || n > MaxFCMTokenBytes || !allOf(token, chars) {
			return Errorf(CodeInvalid, "An FCM registration token is %d to %d characters of A-Z, a-z, 0-9, _, :, . and -.", MinFCMTokenBytes, MaxFCMTokenBytes)
		}
	}
	return nil
}

func allOf(s, chars string) bool {
	for _, r := range s {
		if !strings.ContainsRune(chars, r) {
			return false
		}
	}
	return true
}

// decodePushKey decodes base64url with or without padding, as browsers
// and libraries differ.
func decodePushKey(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func loopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// PushStore keeps push subscriptions.
type PushStore interface {
	// PutPushSubscription stores s, replacing the subscription of the same
	// endpoint (whoever had it), and then drops the user's oldest beyond
	// MaxPushSubscriptionsPerUser.
	PutPushSubscription(ctx context.Context, s *PushSubscription) error
	// DeletePushSubscription removes the endpoint when userID is its
	// owner ("" for any owner: the push service said it is gone), and
	// reports whether it did.
	DeletePushSubscription(ctx context.Context, userID, endpoint string) (bool, error)
	// GetPushSubscription returns one by endpoint (CodeNotFound when none).
	GetPushSubscription(ctx context.Context, endpoint string) (*PushSubscription, error)
	// ListPushSubscriptions returns the subscriptions of the users among
	// userIDs (at most MaxPageLimit ids), by user then endpoint.
	ListPushSubscriptions(ctx context.Context, userIDs []string) ([]*PushSubscription, error)
	// ConnectedUsers returns which of userIDs (at most MaxPageLimit) have
	// a live connection on a node stamped at or after staleBefore (the
	// counts of PresenceStore).
	ConnectedUsers(ctx context.Context, userIDs []string, staleBefore time.Time) (map[string]bool, error)

	NotificationStore
}
