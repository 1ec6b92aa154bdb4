package confab

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"time"
)

// ChannelWebPush is the outbox channel of Web Push notifications (RFC
// 8030): one delivery per push subscription, its Target the endpoint.
const ChannelWebPush = "webpush"

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
// to (RFC 8291). An endpoint belongs to one user at a time.
type PushSubscription struct {
	Endpoint  string
	UserID    string
	P256dh    string // base64url of the subscriber's P-256 public key
	Auth      string // base64url of the 16-byte authentication secret
	CreatedAt time.Time
}

// Validate checks a subscription a client sent: an https endpoint (http
// only on a loopback host, for tests and development) with no
// credentials, at most MaxPushEndpointBytes, and keys of RFC 8291's sizes.
func (s *PushSubscription) Validate() error {
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
