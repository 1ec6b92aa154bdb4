// Package webpush is the notify.Channel of Web Push (RFC 8030): for each
// message sent, one encrypted (RFC 8291) notification to every push
// subscription of each member who should hear of it, signed with the
// server's VAPID key (RFC 8292). A subscription the push service answers
// 404 or 410 for is gone and is dropped. The payload is the documented
// Payload JSON; the web client's service worker shows it.
package webpush

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
)

// Limits and defaults.
const (
	DefaultTimeout = 10 * time.Second // one push request
	// DefaultTTL is how long a push service keeps a notification for an
	// offline device (RFC 8030 §5.2): a chat notice older than a day is
	// noise.
	DefaultTTL = 24 * time.Hour
	// DefaultPresenceStale, DefaultCoalesceWindow and PreviewRunes are
	// notify's, shared by every push channel.
	DefaultPresenceStale  = notify.DefaultPresenceStale
	DefaultCoalesceWindow = notify.DefaultCoalesceWindow
	PreviewRunes          = notify.PreviewRunes
	responseBodyBytes     = 4096
	// DefaultSenders is how many pushes a node encrypts and posts at
	// once. The outbox worker runs notify.DefaultConcurrency deliveries at
	// once; two of them pushing keep a 900-push fan-out within about one
	// of the node's cores, leaving the others to the sends (issue #14).
	DefaultSenders = 2
)

// Payload is the JSON a notification carries, decrypted by the browser and
// read by the service worker: notify.PushPayload.
type Payload = notify.PushPayload

// Store is what the channel reads: conversations and users for the
// payload, subscriptions and presence for the recipients.
type Store = notify.PushStore

// Config configures a Channel; zero fields take the defaults.
type Config struct {
	Keys Keys
	// Subject is the VAPID contact (RFC 8292 §2.1): a mailto: address or
	// an https URL, so a push service can reach the operator.
	Subject string
	TTL     time.Duration
	Timeout time.Duration
	// Senders bounds the pushes encrypted and posted at once on this node
	// (DefaultSenders when 0); the other deliveries wait their turn.
	Senders int
	// Fanout selects the recipients, shared with the other push channels
	// of the process; nil makes one of PresenceStale, CoalesceWindow and
	// Now.
	Fanout         *notify.PushFanout
	PresenceStale  time.Duration
	CoalesceWindow time.Duration
	Logger         *slog.Logger
	Now            func() time.Time
	// Dropped is called when a subscription is dropped (a metric).
	Dropped func()
	// AllowPrivate lets pushes reach loopback, private and link-local
	// addresses. Off, an endpoint a user registered cannot make the
	// server POST into its own network (the tests' push service on
	// 127.0.0.1 turns it on).
	AllowPrivate bool
}

// Channel delivers Web Push notifications.
type Channel struct {
	store  Store
	cfg    Config
	client *http.Client
	vapid  *vapid
	send   chan struct{} // a slot per sender (Config.Senders)
}

var _ notify.Channel = (*Channel)(nil)

// New returns the Web Push channel on store.
func New(store Store, cfg Config) (*Channel, error) {
	if err := cfg.Keys.check(); err != nil {
		return nil, err
	}
	if cfg.Subject == "" {
		return nil, errors.New("webpush: Config.Subject (mailto: or https: contact) is required")
	}
	v, err := newVAPID(cfg.Keys, cfg.Subject)
	if err != nil {
		return nil, err
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Senders <= 0 {
		cfg.Senders = DefaultSenders
	}
	if cfg.Fanout == nil {
		cfg.Fanout = notify.NewPushFanout(store, notify.PushConfig{PresenceStale: cfg.PresenceStale, CoalesceWindow: cfg.CoalesceWindow, Now: cfg.Now})
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
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if !cfg.AllowPrivate {
		// Checked on the address dialled, after DNS: a name that resolves
		// inside the network is refused too.
		transport.DialContext = (&net.Dialer{Timeout: cfg.Timeout, Control: refusePrivate}).DialContext
	}
	client := &http.Client{
		Timeout:       cfg.Timeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Channel{store: store, cfg: cfg, client: client, vapid: v, send: make(chan struct{}, cfg.Senders)}, nil
}

// Name implements notify.Channel.
func (c *Channel) Name() string { return confab.ChannelWebPush }

// Fanout implements notify.Channel: for message.sent, one delivery per
// browser subscription of each member who should hear of it
// (notify.PushFanout); device registrations are left to their channels.
func (c *Channel) Fanout(ctx context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	return c.cfg.Fanout.Fanout(ctx, ev, confab.ChannelWebPush, "")
}

// Deliver implements notify.Channel: take one of Config.Senders (a
// context that ends first is retried), encrypt the payload to the
// subscription's keys and POST it. 2xx is success; 404 and 410 drop the
// subscription, as does an endpoint inside the network (unless
// AllowPrivate); 429 and 5xx (and network errors) are retried; any other
// answer is permanent.
func (c *Channel) Deliver(ctx context.Context, d *confab.OutboxEntry) error {
	sub, err := c.store.GetPushSubscription(ctx, d.Target)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return fmt.Errorf("webpush: the subscription was removed: %w", notify.ErrPermanent)
	} else if err != nil {
		return err
	}
	p, err := c.cfg.Fanout.WithUnread(ctx, d, sub.UserID)
	if err != nil || p.Unread == 0 {
		return err // read meanwhile (or the conversation or membership is gone): nothing to say
	}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	select { // one of Config.Senders, until the answer is read
	case c.send <- struct{}{}:
		defer func() { <-c.send }()
	case <-ctx.Done():
		return ctx.Err()
	}
	req, err := c.request(ctx, sub, data, d.ConversationID)
	if err != nil {
		// Encrypting or signing failed (bad stored keys): no retry helps.
		return fmt.Errorf("webpush: %w: %w", err, notify.ErrPermanent)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			// Not a push service: drop it, as a push service's "gone" does.
			if _, derr := c.store.DeletePushSubscription(ctx, "", sub.Endpoint); derr != nil {
				return derr
			}
			c.cfg.Dropped()
			c.cfg.Logger.Warn("push subscription dropped: its endpoint is inside the network", "user_id", sub.UserID, "err", err)
			return fmt.Errorf("webpush: %w: %w", err, notify.ErrPermanent)
		}
		return fmt.Errorf("webpush: post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, responseBodyBytes)) // drained for connection reuse
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return nil
	case code == http.StatusNotFound || code == http.StatusGone:
		err := notify.DropPushSubscription(ctx, c.store, sub.Endpoint, fmt.Errorf("webpush: push service answered %s", resp.Status))
		if errors.Is(err, notify.ErrPermanent) {
			c.cfg.Dropped()
			c.cfg.Logger.Info("push subscription dropped: the push service says it is gone", "user_id", sub.UserID, "status", code)
		}
		return err
	case code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("webpush: push service answered %s", resp.Status)
	default:
		return fmt.Errorf("webpush: push service answered %s: %w", resp.Status, notify.ErrPermanent)
	}
}

// request is the push request of data to sub (RFC 8030 §5): the payload
// encrypted to the subscription's keys, the VAPID Authorization, and the
// conversation's Topic, so a newer push about it replaces one not yet
// delivered.
func (c *Channel) request(ctx context.Context, sub *confab.PushSubscription, data []byte, conversationID string) (*http.Request, error) {
	body, err := encrypt(data, sub.P256dh, sub.Auth)
	if err != nil {
		return nil, err
	}
	auth, err := c.vapid.header(sub.Endpoint, time.Now()) // the push service checks exp by its clock
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.Itoa(int(c.cfg.TTL/time.Second)))
	req.Header.Set("Urgency", "normal")
	req.Header.Set("Topic", topic(conversationID))
	req.Header.Set("Authorization", auth)
	return req, nil
}

// topic is the Topic header (RFC 8030 §5.4: at most 32 base64url
// characters) of a conversation: a hash, since ids may be longer.
func topic(conversationID string) string {
	h := sha256.Sum256([]byte(conversationID))
	return base64.RawURLEncoding.EncodeToString(h[:24])
}

// errPrivateAddress refuses a push to an address inside the network.
var errPrivateAddress = errors.New("webpush: the endpoint's address is loopback, private or link-local")

// refusePrivate is a net.Dialer Control that refuses loopback, private,
// link-local, multicast and unspecified addresses.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%w: %s", errPrivateAddress, ip)
	}
	return nil
}
