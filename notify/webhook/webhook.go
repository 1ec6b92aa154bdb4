// Package webhook is the notify.Channel of webhooks: signed JSON POSTs of
// outbox events to the endpoints an operator added (confab webhook add),
// in the shape docs/webhooks.md documents (Standard Webhooks headers,
// HMAC-SHA256). An endpoint that fails DisableAfter deliveries in a row is
// disabled, counted and logged. It never reads or writes conversations.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
)

// Limits and defaults.
const (
	DefaultTimeout      = 10 * time.Second // one delivery's HTTP request, body read included
	DefaultDisableAfter = 20               // failed deliveries in a row that disable an endpoint
	SecretPrefix        = "whsec_"         // Standard Webhooks' secret prefix
	secretBytes         = 32               // random bytes of a generated secret
	responseBodyBytes   = 4096             // bytes of a response read (and dropped) so the connection is reused
)

// Body is the JSON body of every delivery. Its fields are the documented
// schema: added to, never changed.
type Body struct {
	ID        string          `json:"id"`        // "evt_<n>": the same on retries and replays (deduplicate by it)
	Type      string          `json:"type"`      // the event, e.g. "message.sent"
	Timestamp time.Time       `json:"timestamp"` // when the change happened
	Data      json.RawMessage `json:"data"`      // the event's data object
}

// DeliveryID is the webhook-id (and Body.ID) of the event eventID.
func DeliveryID(eventID int64) string { return "evt_" + strconv.FormatInt(eventID, 10) }

// Channel delivers webhooks.
type Channel struct {
	store        confab.WebhookStore
	client       *http.Client
	disableAfter int
	logger       *slog.Logger
	now          func() time.Time
	disabled     func() // counts a disabled endpoint (the metric)
}

// Config tunes a Channel; zero fields take the defaults.
type Config struct {
	Timeout      time.Duration
	DisableAfter int
	Logger       *slog.Logger
	Now          func() time.Time
	// Disabled is called when an endpoint is disabled (a metric).
	Disabled func()
}

var _ notify.Channel = (*Channel)(nil)

// New returns the webhook channel on store.
func New(store confab.WebhookStore, cfg Config) *Channel {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = DefaultDisableAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Disabled == nil {
		cfg.Disabled = func() {}
	}
	client := &http.Client{
		Timeout: cfg.Timeout,
		// A redirect is a failure: the signature is for the endpoint added.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Channel{store: store, client: client, disableAfter: cfg.DisableAfter, logger: cfg.Logger, now: cfg.Now, disabled: cfg.Disabled}
}

// Name implements notify.Channel.
func (c *Channel) Name() string { return confab.ChannelWebhook }

// Fanout implements notify.Channel: one delivery per enabled endpoint
// subscribed to the event.
func (c *Channel) Fanout(ctx context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	hooks, err := c.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	var out []*confab.OutboxEntry
	for _, w := range hooks {
		if w.Wants(ev.Event) {
			out = append(out, Delivery(ev, w.WebhookID))
		}
	}
	return out, nil
}

// Delivery is the delivery of event ev to the endpoint webhookID, due now.
func Delivery(ev *confab.OutboxEntry, webhookID string) *confab.OutboxEntry {
	return &confab.OutboxEntry{Channel: confab.ChannelWebhook, Target: webhookID, EventID: ev.EventID, Event: ev.Event,
		ConversationID: ev.ConversationID, At: ev.At, Data: ev.Data, NotBefore: ev.At}
}

// Deliver implements notify.Channel: POST the signed body; a 2xx answer
// is success, anything else (a redirect too) a failure counted against the
// endpoint.
func (c *Channel) Deliver(ctx context.Context, d *confab.OutboxEntry) error {
	w, err := c.find(ctx, d.Target)
	if err != nil {
		return err
	}
	if w.DisabledAt != nil {
		return fmt.Errorf("webhook %s is disabled: %w", w.WebhookID, notify.ErrPermanent)
	}
	body, err := json.Marshal(Body{ID: DeliveryID(d.EventID), Type: string(d.Event), Timestamp: d.At.UTC(), Data: d.Data})
	if err != nil {
		return fmt.Errorf("webhook: body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w: %w", w.WebhookID, err, notify.ErrPermanent)
	}
	id, ts := DeliveryID(d.EventID), c.now().Unix()
	sig, err := Sign(w.Secret, id, ts, body)
	if err != nil {
		return fmt.Errorf("webhook %s: %w: %w", w.WebhookID, err, notify.ErrPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "confab-webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	sendErr := c.send(req)
	c.record(ctx, w, sendErr == nil)
	return sendErr
}

func (c *Channel) send(req *http.Request) error {
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, responseBodyBytes)) // only drained, for connection reuse
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: endpoint answered %s", resp.Status)
	}
	return nil
}

// record counts the result against the endpoint, and reports a disabling.
func (c *Channel) record(ctx context.Context, w *confab.Webhook, ok bool) {
	after, err := c.store.RecordWebhookResult(ctx, w.WebhookID, ok, c.disableAfter, c.now())
	if err != nil {
		if confab.ErrorCode(err) != confab.CodeNotFound { // removed meanwhile: nothing to count
			c.logger.Warn("webhook result not recorded", "webhook_id", w.WebhookID, "err", err)
		}
		return
	}
	if w.DisabledAt == nil && after.DisabledAt != nil {
		c.disabled()
		c.logger.Error("webhook disabled after failed deliveries", "webhook_id", w.WebhookID, "url", w.URL, "failures", after.Failures)
	}
}

func (c *Channel) find(ctx context.Context, id string) (*confab.Webhook, error) {
	hooks, err := c.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range hooks {
		if w.WebhookID == id {
			return w, nil
		}
	}
	return nil, fmt.Errorf("webhook %s was removed: %w", id, notify.ErrPermanent)
}

// Sign returns the webhook-signature header value of body sent as id at
// ts (Unix seconds): "v1," and the base64 HMAC-SHA256, keyed with the
// secret's decoded bytes, of "<id>.<ts>.<body>" (Standard Webhooks).
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := SecretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// SecretKey decodes a "whsec_<base64>" secret into its key bytes.
func SecretKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errors.New("webhook: the secret must start with " + SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < 16 || len(key) > 64 {
		return nil, errors.New("webhook: the secret must be " + SecretPrefix + " and the base64 of 16 to 64 bytes")
	}
	return key, nil
}

// NewSecret returns a random secret.
func NewSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails (crypto/rand)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}
