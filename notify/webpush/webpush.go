// Package webpush is the notify.Channel of Web Push (RFC 8030): for each
// message sent, one encrypted (RFC 8291) notification to every push
// subscription of each member who should hear of it, signed with the
// server's VAPID key (RFC 8292). A subscription the push service answers
// 404 or 410 for is gone and is dropped. The payload is the documented
// Payload JSON; the web client's service worker shows it.
package webpush

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"syscall"
	"time"

	"github.com/SherClockHolmes/webpush-go"
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
	// DefaultPresenceStale is how old a node's connection counts may be
	// and still count (chat stamps them every 30 s; three missed stamps
	// mean the node died).
	DefaultPresenceStale = 90 * time.Second
	// PreviewRunes bounds the message preview in a payload, keeping it
	// far below the 4 KiB a push message may carry (RFC 8291 §4).
	PreviewRunes = 140
	// DefaultCoalesceWindow is how long after a push about a conversation
	// its further messages push nothing to the same user: a burst is one
	// notification, and the next one after the window counts them all.
	DefaultCoalesceWindow = 10 * time.Second
	responseBodyBytes     = 4096
)

// Payload is the JSON a notification carries, decrypted by the browser and
// read by the service worker. Fields are added to, never changed.
type Payload struct {
	Type             string `json:"type"` // "message"
	ConversationID   string `json:"conversationId"`
	ConversationName string `json:"conversationName,omitempty"`
	MessageID        string `json:"messageId"`
	Seq              int64  `json:"seq"`
	SenderID         string `json:"senderId"`
	Sender           string `json:"sender"`            // the sender's display name, else username
	Preview          string `json:"preview,omitempty"` // the first PreviewRunes of the content; none when the user hides previews
	// Unread is the recipient's unread messages in the conversation when
	// the push left (the coalesced ones of a burst included).
	Unread int64 `json:"unread"`
}

// Store is what the channel reads: conversations and users for the
// payload, subscriptions and presence for the recipients.
type Store interface {
	GetConversation(ctx context.Context, conversationID string) (*confab.Conversation, error)
	GetUser(ctx context.Context, userID string) (*confab.User, error)
	confab.PushStore
}

// Config configures a Channel; zero fields take the defaults.
type Config struct {
	Keys Keys
	// Subject is the VAPID contact (RFC 8292 §2.1): a mailto: address or
	// an https URL, so a push service can reach the operator.
	Subject        string
	TTL            time.Duration
	Timeout        time.Duration
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
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CoalesceWindow <= 0 {
		cfg.CoalesceWindow = DefaultCoalesceWindow
	}
	if cfg.PresenceStale <= 0 {
		cfg.PresenceStale = DefaultPresenceStale
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
	return &Channel{store: store, cfg: cfg, client: client}, nil
}

// Name implements notify.Channel.
func (c *Channel) Name() string { return confab.ChannelWebPush }

// Fanout implements notify.Channel: for message.sent, one delivery per
// subscription of each member who should hear of it: not the sender; not
// anyone connected on any node (their open client shows the message);
// only those whose settings want it (level, mute, quiet hours); and only
// the first message of a coalescing window. Windows are claimed last, once
// every read succeeded, and only for members with a subscription (one
// write each); a claim that fails after others succeeded leaves those
// members' windows taken, so the retry does not notify them twice.
func (c *Channel) Fanout(ctx context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	if ev.Event != confab.OutboxMessageSent {
		return nil, nil
	}
	var m confab.MessageData
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		return nil, fmt.Errorf("webpush: message.sent data: %w", err)
	}
	conv, err := c.store.GetConversation(ctx, m.ConversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil // purged since
	} else if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	wanting, err := c.wanting(ctx, conv, &m, now)
	if err != nil || len(wanting) == 0 {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(wanting))
	var subs []*confab.PushSubscription
	for chunk := range chunks(ids, confab.MaxPageLimit) {
		s, err := c.store.ListPushSubscriptions(ctx, chunk)
		if err != nil {
			return nil, err
		}
		subs = append(subs, s...)
	}
	if len(subs) == 0 {
		return nil, nil
	}
	full, err := c.payload(ctx, conv, &m)
	if err != nil {
		return nil, err
	}
	var out []*confab.OutboxEntry
	first := map[string]bool{}
	for _, s := range subs {
		ok, seen := first[s.UserID]
		if !seen {
			if ok, err = c.store.ClaimPushWindow(ctx, s.UserID, conv.ConversationID, now, c.cfg.CoalesceWindow); err != nil {
				return nil, err
			}
			first[s.UserID] = ok
		}
		if !ok {
			continue
		}
		data := full
		if wanting[s.UserID].HidePreviews {
			data = withoutPreview(full)
		}
		out = append(out, &confab.OutboxEntry{Channel: confab.ChannelWebPush, Target: s.Endpoint, EventID: ev.EventID, Event: ev.Event,
			ConversationID: ev.ConversationID, At: ev.At, Data: data, NotBefore: ev.At})
	}
	return out, nil
}

// wanting returns the members other than the sender who are not connected
// and whose settings want the message, with their settings.
func (c *Channel) wanting(ctx context.Context, conv *confab.Conversation, m *confab.MessageData, now time.Time) (map[string]*confab.NotificationSettings, error) {
	direct := len(conv.Members) == 2
	out := map[string]*confab.NotificationSettings{}
	var ids []string
	for _, mem := range conv.Members {
		if mem.UserID != m.UserID {
			ids = append(ids, mem.UserID)
		}
	}
	for chunk := range chunks(ids, confab.MaxPageLimit) {
		online, err := c.store.ConnectedUsers(ctx, chunk, now.Add(-c.cfg.PresenceStale))
		if err != nil {
			return nil, err
		}
		settings, err := c.store.GetNotificationSettings(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for _, id := range chunk {
			s := settings[id]
			if s == nil {
				s = &confab.NotificationSettings{}
			}
			if !online[id] && s.Wants(conv.ConversationID, slices.Contains(m.Mentions, id), direct, now) {
				out[id] = s
			}
		}
	}
	return out, nil
}

func chunks(ids []string, n int) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(ids) > 0 {
			k := min(n, len(ids))
			if !yield(ids[:k]) {
				return
			}
			ids = ids[k:]
		}
	}
}

func withoutPreview(full json.RawMessage) json.RawMessage {
	var p Payload
	_ = json.Unmarshal(full, &p) // made by payload: always a Payload
	p.Preview = ""
	b, _ := json.Marshal(p)
	return b
}

func (c *Channel) payload(ctx context.Context, conv *confab.Conversation, m *confab.MessageData) (json.RawMessage, error) {
	p := Payload{Type: "message", ConversationID: conv.ConversationID, MessageID: m.MessageID, Seq: m.Seq, SenderID: m.UserID,
		Sender: m.UserID, Preview: preview(m)}
	if conv.Name != nil {
		p.ConversationName = *conv.Name
	}
	if u, err := c.store.GetUser(ctx, m.UserID); err == nil {
		p.Sender = u.Username
		if u.DisplayName != nil && *u.DisplayName != "" {
			p.Sender = *u.DisplayName
		}
	} else if confab.ErrorCode(err) != confab.CodeNotFound {
		return nil, err
	}
	return json.Marshal(p)
}

// preview is the start of a text message; other kinds show no content
// (an image's or a file's content is a URL or a key, not words).
func preview(m *confab.MessageData) string {
	if m.MessageType != string(confab.MessageText) {
		return ""
	}
	s, n := m.Content, 0
	for i := range s {
		if n == PreviewRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// Deliver implements notify.Channel: encrypt the payload to the
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
	data, unread, err := c.withUnread(ctx, d.Data, sub.UserID)
	if err != nil || unread == 0 {
		return err // read meanwhile (or the conversation or membership is gone): nothing to say
	}
	resp, err := webpush.SendNotificationWithContext(ctx, data, &webpush.Subscription{
		Endpoint: sub.Endpoint, Keys: webpush.Keys{P256dh: sub.P256dh, Auth: sub.Auth},
	}, &webpush.Options{
		HTTPClient: c.client, Subscriber: c.cfg.Subject, TTL: int(c.cfg.TTL / time.Second), Urgency: webpush.UrgencyNormal,
		VAPIDPublicKey: c.cfg.Keys.Public, VAPIDPrivateKey: c.cfg.Keys.Private,
		Topic: topic(d.ConversationID), // a newer push about the conversation replaces one not yet delivered
	})
	if err != nil {
		var netErr *url.Error
		if !errors.As(err, &netErr) {
			// Encrypting or signing failed (bad stored keys): no retry helps.
			return fmt.Errorf("webpush: %w: %w", err, notify.ErrPermanent)
		}
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
		if _, err := c.store.DeletePushSubscription(ctx, "", sub.Endpoint); err != nil {
			return err // retried: the drop is tried again
		}
		c.cfg.Dropped()
		c.cfg.Logger.Info("push subscription dropped: the push service says it is gone", "user_id", sub.UserID, "status", code)
		return fmt.Errorf("webpush: push service answered %s: %w", resp.Status, notify.ErrPermanent)
	case code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("webpush: push service answered %s", resp.Status)
	default:
		return fmt.Errorf("webpush: push service answered %s: %w", resp.Status, notify.ErrPermanent)
	}
}

// withUnread sets the payload's Unread to the user's unread messages in
// the conversation now; 0 when the message was read meanwhile or the user
// is no longer a member.
func (c *Channel) withUnread(ctx context.Context, data json.RawMessage, userID string) (json.RawMessage, int64, error) {
	var p Payload
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, 0, fmt.Errorf("webpush: payload: %w: %w", err, notify.ErrPermanent)
	}
	conv, err := c.store.GetConversation(ctx, p.ConversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, err
	}
	for _, m := range conv.Members {
		if m.UserID == userID && m.LastReadSeq < p.Seq {
			p.Unread = conv.LastSeq - m.LastReadSeq
			b, err := json.Marshal(p)
			return b, p.Unread, err
		}
	}
	return nil, 0, nil
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
