// Package fcm is the notify.Channel of Firebase Cloud Messaging (the HTTP
// v1 API): for each message sent, one notification to every FCM
// registration token of each member who should hear of it
// (notify.PushFanout), authorised by an OAuth 2.0 access token of a
// service account. A token FCM answers 404 or UNREGISTERED for is dropped.
// The channel never writes to a conversation: it reads the store and
// removes only the registrations FCM says are gone.
package fcm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// Limits and defaults.
const (
	DefaultURL     = "https://fcm.googleapis.com"
	DefaultTimeout = 10 * time.Second // one request (the token's or the send)
	// DefaultTTL is how long FCM keeps a notification for an offline
	// device: a chat notice older than a day is noise.
	DefaultTTL = 24 * time.Hour
	// Scope is the OAuth 2.0 scope of the HTTP v1 API.
	Scope             = "https://www.googleapis.com/auth/firebase.messaging"
	responseBodyBytes = 16 << 10
	maxCredentialsLen = 64 << 10
)

// Config configures a Channel; zero fields take the defaults.
type Config struct {
	// Credentials is the service account's JSON key file's content.
	Credentials []byte
	// ProjectID is the Firebase project; "" takes the key file's
	// project_id.
	ProjectID string
	URL       string // DefaultURL unless set (tests: a local server)
	// TokenURL overrides the key file's token_uri (tests).
	TokenURL string
	// Client sends the requests (the token's too); nil makes one with
	// Timeout.
	Client  *http.Client
	Timeout time.Duration
	TTL     time.Duration
	Fanout  *notify.PushFanout // shared with the other push channels; required
	Logger  *slog.Logger
	Dropped func() // called when a registration is dropped (a metric)
}

// Channel delivers FCM notifications.
type Channel struct {
	store  notify.PushStore
	cfg    Config
	tokens oauth2.TokenSource
	send   string // the messages:send URL
}

var _ notify.Channel = (*Channel)(nil)

// LoadCredentials reads a service account's JSON key file.
func LoadCredentials(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fcm: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCredentialsLen+1))
	if err != nil {
		return nil, fmt.Errorf("fcm: %w", err)
	}
	if len(b) > maxCredentialsLen {
		return nil, fmt.Errorf("fcm: %s is larger than %d bytes: not a service account key", path, maxCredentialsLen)
	}
	return b, nil
}

// New returns the FCM channel on store.
func New(store notify.PushStore, cfg Config) (*Channel, error) {
	if cfg.Fanout == nil {
		return nil, errors.New("fcm: Config.Fanout is required")
	}
	jc, err := google.JWTConfigFromJSON(cfg.Credentials, Scope)
	if err != nil {
		return nil, fmt.Errorf("fcm: the credentials are not a service account key: %w", err)
	}
	if jc.Email == "" || len(jc.PrivateKey) == 0 {
		return nil, errors.New("fcm: the service account key has no client_email or private_key")
	}
	if cfg.ProjectID == "" {
		var f struct {
			ProjectID string `json:"project_id"`
		}
		_ = json.Unmarshal(cfg.Credentials, &f) // parsed above
		cfg.ProjectID = f.ProjectID
	}
	if cfg.ProjectID == "" {
		return nil, errors.New("fcm: no project id (--fcm-project-id, or project_id in the key file)")
	}
	if cfg.TokenURL != "" {
		jc.TokenURL = cfg.TokenURL
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	for _, u := range []string{cfg.URL, jc.TokenURL} {
		if err := notify.CheckPushURL(u); err != nil {
			return nil, fmt.Errorf("fcm: %s: %w", u, err)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dropped == nil {
		cfg.Dropped = func() {}
	}
	// The token source lives as long as the channel and reuses a token
	// until shortly before it expires.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, cfg.Client)
	return &Channel{store: store, cfg: cfg, tokens: jc.TokenSource(tokenCtx),
		send: strings.TrimRight(cfg.URL, "/") + "/v1/projects/" + url.PathEscape(cfg.ProjectID) + "/messages:send"}, nil
}

// Name implements notify.Channel.
func (c *Channel) Name() string { return confab.ChannelFCM }

// Fanout implements notify.Channel: one delivery per FCM registration of
// each member who should hear of the message.
func (c *Channel) Fanout(ctx context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	return c.cfg.Fanout.Fanout(ctx, ev, confab.ChannelFCM, confab.PushFCM)
}

// request is the body of messages:send.
type request struct {
	Message message `json:"message"`
}

type message struct {
	Token        string            `json:"token"`
	Notification notification      `json:"notification"`
	Data         map[string]string `json:"data"` // for the app's deep link
	Android      android           `json:"android"`
}

type notification struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

type android struct {
	CollapseKey  string              `json:"collapse_key"` // a newer message about the conversation replaces one not yet delivered
	Priority     string              `json:"priority"`
	TTL          string              `json:"ttl"`
	Notification androidNotification `json:"notification"`
}

type androidNotification struct {
	Tag   string `json:"tag"` // a newer notification about the conversation replaces the one shown
	Count int64  `json:"notification_count"`
}

// fcmError is the error body of the HTTP v1 API.
type fcmError struct {
	Error struct {
		Status  string `json:"status"`
		Message string `json:"message"`
		Details []struct {
			ErrorCode string `json:"errorCode"`
		} `json:"details"`
	} `json:"error"`
}

func (e *fcmError) code() string {
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			return d.ErrorCode
		}
	}
	return e.Error.Status
}

// Deliver implements notify.Channel. 2xx is success; 404 and UNREGISTERED
// drop the registration; 401 and 403 (the credentials or the project) are
// retried and logged as errors, since every push fails until the operator
// fixes them; 429 and 5xx (and network errors, and a failed token
// request) are retried; any other answer is permanent.
func (c *Channel) Deliver(ctx context.Context, d *confab.OutboxEntry) error {
	sub, err := c.store.GetPushSubscription(ctx, d.Target)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return fmt.Errorf("fcm: the registration was removed: %w", notify.ErrPermanent)
	} else if err != nil {
		return err
	}
	platform, device := sub.Platform()
	if platform != confab.PushFCM {
		return fmt.Errorf("fcm: %q is not an FCM registration: %w", d.Target, notify.ErrPermanent)
	}
	p, err := c.cfg.Fanout.WithUnread(ctx, d, sub.UserID)
	if err != nil || p.Unread == 0 {
		return err // read meanwhile (or the conversation or membership is gone): nothing to say
	}
	resp, err := c.post(ctx, device, p)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var fe fcmError
	_ = json.NewDecoder(io.LimitReader(resp.Body, responseBodyBytes)).Decode(&fe) // absent on success; the status decides
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, responseBodyBytes))      // drained for connection reuse
	code := resp.StatusCode
	why := fmt.Errorf("fcm: answered %s %s %s", resp.Status, fe.code(), fe.Error.Message)
	switch {
	case code >= 200 && code <= 299:
		return nil
	case code == http.StatusNotFound || fe.code() == "UNREGISTERED":
		err := notify.DropPushSubscription(ctx, c.store, sub.Endpoint, why)
		if errors.Is(err, notify.ErrPermanent) {
			c.cfg.Dropped()
			c.cfg.Logger.Info("FCM registration dropped", "user_id", sub.UserID, "status", code, "error", fe.code())
		}
		return err
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		c.cfg.Logger.Error("FCM refused the credentials: check --fcm-credentials-file and --fcm-project-id", "status", code, "error", fe.code())
		return why
	case code == http.StatusTooManyRequests || code >= 500:
		return why
	default:
		return fmt.Errorf("%w: %w", why, notify.ErrPermanent)
	}
}

func (c *Channel) post(ctx context.Context, device string, p *notify.PushPayload) (*http.Response, error) {
	token, err := c.tokens.Token()
	if err != nil {
		if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			c.cfg.Logger.Error("FCM's token endpoint refused the service account: check --fcm-credentials-file", "err", err)
		}
		return nil, fmt.Errorf("fcm: access token: %w", err)
	}
	unread := strconv.FormatInt(p.Unread, 10)
	body, err := json.Marshal(request{Message: message{
		Token:        device,
		Notification: notification{Title: p.Title(), Body: p.Body()},
		Data: map[string]string{"type": p.Type, "conversationId": p.ConversationID, "messageId": p.MessageID,
			"senderId": p.SenderID, "unread": unread},
		Android: android{CollapseKey: p.ConversationID, Priority: "high", TTL: strconv.Itoa(int(c.cfg.TTL/time.Second)) + "s",
			Notification: androidNotification{Tag: p.ConversationID, Count: p.Unread}},
	}})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.send, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	token.SetAuthHeader(req)
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fcm: post: %w", err)
	}
	return resp, nil
}
