// Package apns is the notify.Channel of the Apple Push Notification
// service: for each message sent, one alert to every APNs device token of
// each member who should hear of it (notify.PushFanout), over HTTP/2 with
// token-based authentication (an ES256 JWT signed with the team's .p8
// key). A token APNs answers 410 Unregistered or 400 BadDeviceToken for is
// dropped. The channel never writes to a conversation: it reads the store
// and removes only the registrations APNs says are gone.
package apns

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"github.com/golang-jwt/jwt/v5"
)

// Limits and defaults.
const (
	// DefaultURL is APNs' production endpoint; the development one is
	// https://api.sandbox.push.apple.com.
	DefaultURL     = "https://api.push.apple.com"
	DefaultTimeout = 10 * time.Second // one push request
	// DefaultTTL is how long APNs keeps a notification for an offline
	// device (apns-expiration): a chat notice older than a day is noise.
	DefaultTTL = 24 * time.Hour
	// TokenRefresh is how long a provider token (JWT) is used: APNs
	// refuses one older than an hour, and one renewed more often than
	// every 20 minutes (TooManyProviderTokenUpdates).
	TokenRefresh = 50 * time.Minute
	// Priority is apns-priority: 10 delivers at once (an alert).
	Priority          = "10"
	responseBodyBytes = 4096
	maxKeyFileBytes   = 16 << 10
)

// Config configures a Channel; zero fields take the defaults.
type Config struct {
	Key    *ecdsa.PrivateKey // the P-256 key of the .p8 file (LoadKey)
	KeyID  string            // the key's id (kid), 10 characters in Apple's account
	TeamID string            // the team id (iss)
	Topic  string            // apns-topic: the app's bundle id
	URL    string            // DefaultURL unless set (tests: a local server)
	// Client sends the requests; nil makes an HTTP/2 client with Timeout.
	Client  *http.Client
	Timeout time.Duration
	TTL     time.Duration
	Fanout  *notify.PushFanout // shared with the other push channels; required
	Logger  *slog.Logger
	Now     func() time.Time
	Dropped func() // called when a registration is dropped (a metric)
}

// Channel delivers APNs notifications.
type Channel struct {
	store notify.PushStore
	cfg   Config

	mu       sync.Mutex // guards token and signedAt
	token    string
	signedAt time.Time
}

var _ notify.Channel = (*Channel)(nil)

// LoadKey reads the PKCS #8 PEM .p8 key Apple issues for token-based
// authentication.
func LoadKey(path string) (*ecdsa.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("apns: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes))
	if err != nil {
		return nil, fmt.Errorf("apns: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("apns: %s holds no PEM key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("apns: %s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("apns: %s is not an ECDSA (P-256) key", path)
	}
	return ek, nil
}

// New returns the APNs channel on store.
func New(store notify.PushStore, cfg Config) (*Channel, error) {
	switch {
	case cfg.Key == nil || cfg.KeyID == "" || cfg.TeamID == "" || cfg.Topic == "":
		return nil, errors.New("apns: the key, key id, team id and topic are all required")
	case cfg.Fanout == nil:
		return nil, errors.New("apns: Config.Fanout is required")
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if err := notify.CheckPushURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("apns: %w", err)
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Client == nil {
		cfg.Client = notify.HTTP2Client(cfg.Timeout)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dropped == nil {
		cfg.Dropped = func() {}
	}
	return &Channel{store: store, cfg: cfg}, nil
}

// Name implements notify.Channel.
func (c *Channel) Name() string { return confab.ChannelAPNs }

// Fanout implements notify.Channel: one delivery per APNs registration of
// each member who should hear of the message.
func (c *Channel) Fanout(ctx context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	return c.cfg.Fanout.Fanout(ctx, ev, confab.ChannelAPNs, confab.PushAPNs)
}

// notification is the JSON body APNs gets: the aps dictionary, and the
// payload's ids beside it for the app's deep link.
type notification struct {
	APS            aps    `json:"aps"`
	ConversationID string `json:"conversationId"`
	MessageID      string `json:"messageId"`
	SenderID       string `json:"senderId"`
}

type aps struct {
	Alert    alert  `json:"alert"`
	Badge    int64  `json:"badge"`
	Sound    string `json:"sound"`
	ThreadID string `json:"thread-id"` // groups a conversation's notifications
}

type alert struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// reason is APNs' error body.
type reason struct {
	Reason string `json:"reason"`
}

// Deliver implements notify.Channel. 200 is success; 410 (Unregistered)
// and 400 BadDeviceToken or DeviceTokenNotForTopic drop the registration;
// 403 (the provider token or the key) is retried and logged as an error,
// since every push fails until the operator fixes it; 429 and 5xx (and
// network errors) are retried; any other answer is permanent.
func (c *Channel) Deliver(ctx context.Context, d *confab.OutboxEntry) error {
	sub, err := c.store.GetPushSubscription(ctx, d.Target)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return fmt.Errorf("apns: the registration was removed: %w", notify.ErrPermanent)
	} else if err != nil {
		return err
	}
	platform, device := sub.Platform()
	if platform != confab.PushAPNs {
		return fmt.Errorf("apns: %q is not an APNs registration: %w", d.Target, notify.ErrPermanent)
	}
	p, err := c.cfg.Fanout.WithUnread(ctx, d, sub.UserID)
	if err != nil || p.Unread == 0 {
		return err // read meanwhile (or the conversation or membership is gone): nothing to say
	}
	body, err := json.Marshal(notification{
		APS:            aps{Alert: alert{Title: p.Title(), Body: p.Body()}, Badge: p.Unread, Sound: "default", ThreadID: p.ConversationID},
		ConversationID: p.ConversationID, MessageID: p.MessageID, SenderID: p.SenderID,
	})
	if err != nil {
		return err
	}
	resp, err := c.post(ctx, device, p.ConversationID, body)
	if err != nil {
		return fmt.Errorf("apns: post: %w", err)
	}
	defer resp.Body.Close()
	var r reason
	_ = json.NewDecoder(io.LimitReader(resp.Body, responseBodyBytes)).Decode(&r) // absent on success
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, responseBodyBytes))     // drained for connection reuse
	code := resp.StatusCode
	why := fmt.Errorf("apns: answered %s %s", resp.Status, r.Reason)
	switch {
	case code == http.StatusOK:
		return nil
	case code == http.StatusGone || code == http.StatusBadRequest && (r.Reason == "BadDeviceToken" || r.Reason == "DeviceTokenNotForTopic"):
		err := notify.DropPushSubscription(ctx, c.store, sub.Endpoint, why)
		if errors.Is(err, notify.ErrPermanent) {
			c.cfg.Dropped()
			c.cfg.Logger.Info("APNs registration dropped", "user_id", sub.UserID, "status", code, "reason", r.Reason)
		}
		return err
	case code == http.StatusForbidden:
		if r.Reason == "ExpiredProviderToken" {
			c.forgetToken() // not on every 403: APNs refuses tokens renewed too often
		}
		c.cfg.Logger.Error("APNs refused the provider token: check --apns-key-file, --apns-key-id and --apns-team-id", "reason", r.Reason)
		return why
	case code == http.StatusTooManyRequests || code >= 500:
		return why
	default:
		return fmt.Errorf("%w: %w", why, notify.ErrPermanent)
	}
}

func (c *Channel) post(ctx context.Context, device, conversationID string, body []byte) (*http.Response, error) {
	token, err := c.providerToken()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL+"/3/device/"+device, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Authorization", "bearer "+token)
	h.Set("Content-Type", "application/json")
	h.Set("apns-topic", c.cfg.Topic)
	h.Set("apns-push-type", "alert")
	h.Set("apns-priority", Priority)
	h.Set("apns-expiration", strconv.FormatInt(c.cfg.Now().Add(c.cfg.TTL).Unix(), 10))
	h.Set("apns-collapse-id", CollapseID(conversationID))
	return c.cfg.Client.Do(req)
}

// CollapseID is the apns-collapse-id of a conversation (at most 64
// bytes): a newer notification about it replaces one still shown.
func CollapseID(conversationID string) string {
	h := sha256.Sum256([]byte(conversationID))
	return hex.EncodeToString(h[:16])
}

// providerToken returns the ES256 JWT of the team's key, signed anew
// every TokenRefresh.
func (c *Channel) providerToken() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	if c.token != "" && now.Sub(c.signedAt) < TokenRefresh {
		return c.token, nil
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": c.cfg.TeamID, "iat": now.Unix()})
	t.Header["kid"] = c.cfg.KeyID
	s, err := t.SignedString(c.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("apns: sign the provider token: %w", err)
	}
	c.token, c.signedAt = s, now
	return s, nil
}

// forgetToken makes the next push sign a new provider token (after APNs
// refused this one: ExpiredProviderToken, InvalidProviderToken).
func (c *Channel) forgetToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}
