package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/confab-chat/confab"
)

// Defaults of PushConfig.
const (
	// DefaultPresenceStale is how old a node's connection counts may be
	// and still count (chat stamps them every 30 s; three missed stamps
	// mean the node died).
	DefaultPresenceStale = 90 * time.Second
	// DefaultCoalesceWindow is how long after a push about a conversation
	// its further messages push nothing to the same user: a burst is one
	// notification, and the next one after the window counts them all.
	DefaultCoalesceWindow = 10 * time.Second
	// PreviewRunes bounds the message preview in a payload, keeping it
	// far below what any push service carries (4 KiB for Web Push and
	// APNs, RFC 8291 §4).
	PreviewRunes = 140
	// pushMemo is how many events' selections PushFanout remembers, so
	// that the push channels (Web Push, APNs, FCM) of one event share one
	// selection and one coalescing claim.
	pushMemo = 256
	// UnreadSnapshotAge bounds how old the conversation may be that a
	// delivery counts its Unread from (and learns whether the message was
	// read meanwhile): the deliveries of one event share one read of the
	// conversation, retaken once it is this old, instead of reading every
	// member of it once per delivery (900 reads of 1,000 members for one
	// message, most of a fan-out's CPU: BENCHMARKS.md, issue #14). A member
	// who reads the conversation less than this before their push leaves
	// may still get it.
	UnreadSnapshotAge = time.Second
	// unreadSnapshots bounds the events whose snapshot is kept (a
	// conversation of up to confab.MaxMembers members each): more than the
	// events a worker delivers at once.
	unreadSnapshots = 16
)

// PushPayload is what a push notification says, the same on every push
// channel (Web Push sends it as its JSON; APNs and FCM map it to their
// formats). Fields are added to, never changed.
type PushPayload struct {
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

// Title and Body are the notification's text, as the web client's service
// worker shows it: the conversation's name (or the sender) as the title;
// the sender and the preview, or a count, as the body.
func (p *PushPayload) Title() string {
	switch {
	case p.ConversationName != "":
		return p.ConversationName
	case p.Sender != "":
		return p.Sender
	}
	return "New message"
}

// Body: see Title.
func (p *PushPayload) Body() string {
	more := ""
	if p.Unread > 1 {
		more = fmt.Sprintf(" (%d unread)", p.Unread)
	}
	if p.Preview != "" {
		return p.Sender + ": " + p.Preview + more
	}
	return "New message from " + p.Sender + more
}

// PushStore is what the push fan-out reads: conversations and users for
// the payload, subscriptions and presence for the recipients.
type PushStore interface {
	GetConversation(ctx context.Context, conversationID string) (*confab.Conversation, error)
	GetUser(ctx context.Context, userID string) (*confab.User, error)
	confab.PushStore
}

// PushConfig configures a PushFanout; zero fields take the defaults.
type PushConfig struct {
	PresenceStale  time.Duration
	CoalesceWindow time.Duration
	Now            func() time.Time
}

// PushFanout selects who a message is pushed to, for every push channel:
// members other than the sender who are not connected on any node and
// whose settings want it (level, mute, quiet hours), and only the first
// message of a coalescing window per member and conversation. One
// PushFanout is shared by the push channels of a process: the first
// channel to fan an event out selects and claims the windows, the others
// take their subscriptions from the same selection (else the first
// channel's claim would leave the others nothing).
type PushFanout struct {
	store PushStore
	cfg   PushConfig

	mu    sync.Mutex             // guards memo, order, snaps and snapOrder
	memo  map[int64][]PushTarget // by outbox entry id
	order []int64                // memo's keys, oldest first

	snaps     map[int64]*convSnapshot // by EventID, for WithUnread
	snapOrder []int64                 // snaps' keys, oldest first

	// held is the coalescing windows this node claimed, until when, by
	// conversation and user: a message inside them selects among the other
	// members only, instead of reading presence, settings and subscriptions
	// of a whole large conversation for every message (guarded by mu; at
	// most maxHeld, expired ones pruned first).
	held map[heldKey]time.Time
}

type heldKey struct{ conversationID, userID string }

// maxHeld bounds PushFanout.held: ten conversations of confab.MaxMembers.
const maxHeld = 10_000

// convSnapshot is one read of a conversation, shared by the deliveries of
// an event: the first to need it reads it, the others wait for that read.
type convSnapshot struct {
	ready chan struct{} // closed once conv, err and taken are set
	conv  *confab.Conversation
	err   error
	taken time.Time
}

// PushTarget is one subscription to push an event to, with its payload
// (without Unread, which is read at delivery).
type PushTarget struct {
	Sub  *confab.PushSubscription
	Data json.RawMessage
}

// NewPushFanout returns the fan-out on store.
func NewPushFanout(store PushStore, cfg PushConfig) *PushFanout {
	if cfg.PresenceStale <= 0 {
		cfg.PresenceStale = DefaultPresenceStale
	}
	if cfg.CoalesceWindow <= 0 {
		cfg.CoalesceWindow = DefaultCoalesceWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &PushFanout{store: store, cfg: cfg, memo: map[int64][]PushTarget{}, snaps: map[int64]*convSnapshot{}, held: map[heldKey]time.Time{}}
}

// Fanout returns channel's deliveries of the event ev: one per selected
// subscription of platform ("" for Web Push).
func (f *PushFanout) Fanout(ctx context.Context, ev *confab.OutboxEntry, channel string, platform confab.PushPlatform) ([]*confab.OutboxEntry, error) {
	if ev.Event != confab.OutboxMessageSent {
		return nil, nil
	}
	targets, err := f.targets(ctx, ev)
	if err != nil {
		return nil, err
	}
	var out []*confab.OutboxEntry
	for _, t := range targets {
		if p, _ := t.Sub.Platform(); p == platform {
			out = append(out, &confab.OutboxEntry{Channel: channel, Target: t.Sub.Endpoint, EventID: ev.EventID, Event: ev.Event,
				ConversationID: ev.ConversationID, At: ev.At, Data: t.Data, NotBefore: ev.At})
		}
	}
	return out, nil
}

// targets returns the event's selection, remembered for the other
// channels. Windows are claimed last, once every read succeeded, and only
// for members with a subscription (one store write per 100 members); a
// claim that fails after others succeeded leaves those members' windows
// taken, so the retry does not notify them twice.
func (f *PushFanout) targets(ctx context.Context, ev *confab.OutboxEntry) ([]PushTarget, error) {
	f.mu.Lock()
	t, ok := f.memo[ev.ID]
	f.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := f.selectTargets(ctx, ev)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.memo[ev.ID]; !ok {
		f.memo[ev.ID] = t
		f.order = append(f.order, ev.ID)
		if len(f.order) > pushMemo {
			delete(f.memo, f.order[0])
			f.order = f.order[1:]
		}
	}
	return t, nil
}

func (f *PushFanout) selectTargets(ctx context.Context, ev *confab.OutboxEntry) ([]PushTarget, error) {
	var m confab.MessageData
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		return nil, fmt.Errorf("push: message.sent data: %w", err)
	}
	conv, err := f.store.GetConversation(ctx, m.ConversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil // purged since
	} else if err != nil {
		return nil, err
	}
	now := f.cfg.Now()
	wanting, err := f.wanting(ctx, conv, &m, now)
	if err != nil || len(wanting) == 0 {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(wanting))
	var subs []*confab.PushSubscription
	for chunk := range chunks(ids, confab.MaxPageLimit) {
		s, err := f.store.ListPushSubscriptions(ctx, chunk)
		if err != nil {
			return nil, err
		}
		subs = append(subs, s...)
	}
	if len(subs) == 0 {
		return nil, nil
	}
	full, err := f.payload(ctx, conv, &m)
	if err != nil {
		return nil, err
	}
	fullData, err := json.Marshal(full)
	if err != nil {
		return nil, err
	}
	full.Preview = ""
	noPreviewData, err := json.Marshal(full)
	if err != nil {
		return nil, err
	}
	won, err := f.claimWindows(ctx, subs, conv.ConversationID, now)
	if err != nil {
		return nil, err
	}
	var out []PushTarget
	for _, s := range subs {
		if !won[s.UserID] {
			continue
		}
		data := fullData
		if wanting[s.UserID].HidePreviews {
			data = noPreviewData
		}
		out = append(out, PushTarget{Sub: s, Data: data})
	}
	return out, nil
}

// claimWindows claims the coalescing window of each user with a
// subscription among subs, a chunk of users per store write: the users
// whose window it started are the ones to push to.
func (f *PushFanout) claimWindows(ctx context.Context, subs []*confab.PushSubscription, conversationID string, now time.Time) (map[string]bool, error) {
	var users []string
	seen := map[string]bool{}
	for _, s := range subs {
		if !seen[s.UserID] {
			seen[s.UserID] = true
			users = append(users, s.UserID)
		}
	}
	won := make(map[string]bool, len(users))
	for chunk := range chunks(users, confab.MaxPageLimit) {
		w, err := f.store.ClaimPushWindows(ctx, chunk, conversationID, now, f.cfg.CoalesceWindow)
		if err != nil {
			return nil, err
		}
		maps.Copy(won, w)
	}
	f.hold(conversationID, won, now)
	return won, nil
}

// hold remembers the windows won until they end.
func (f *PushFanout) hold(conversationID string, won map[string]bool, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.held)+len(won) > maxHeld {
		maps.DeleteFunc(f.held, func(_ heldKey, until time.Time) bool { return !until.After(now) })
		if len(f.held)+len(won) > maxHeld {
			clear(f.held) // the store's claims still coalesce; only the shortcut is lost
		}
	}
	for id, ok := range won {
		if ok {
			f.held[heldKey{conversationID, id}] = now.Add(f.cfg.CoalesceWindow)
		}
	}
}

// holding reports whether this node holds userID's window of the
// conversation at now.
func (f *PushFanout) holding(conversationID, userID string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held[heldKey{conversationID, userID}].After(now)
}

// wanting returns the members other than the sender who are not connected
// and whose settings want the message, with their settings; members whose
// coalescing window this node holds are left out (the store's claim would
// refuse them).
func (f *PushFanout) wanting(ctx context.Context, conv *confab.Conversation, m *confab.MessageData, now time.Time) (map[string]*confab.NotificationSettings, error) {
	direct := len(conv.Members) == 2
	out := map[string]*confab.NotificationSettings{}
	var ids []string
	for _, mem := range conv.Members {
		if mem.UserID != m.UserID && !f.holding(conv.ConversationID, mem.UserID, now) {
			ids = append(ids, mem.UserID)
		}
	}
	for chunk := range chunks(ids, confab.MaxPageLimit) {
		online, err := f.store.ConnectedUsers(ctx, chunk, now.Add(-f.cfg.PresenceStale))
		if err != nil {
			return nil, err
		}
		settings, err := f.store.GetNotificationSettings(ctx, chunk)
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

func (f *PushFanout) payload(ctx context.Context, conv *confab.Conversation, m *confab.MessageData) (PushPayload, error) {
	p := PushPayload{Type: "message", ConversationID: conv.ConversationID, MessageID: m.MessageID, Seq: m.Seq, SenderID: m.UserID,
		Sender: m.UserID, Preview: preview(m)}
	if conv.Name != nil {
		p.ConversationName = *conv.Name
	}
	if u, err := f.store.GetUser(ctx, m.UserID); err == nil {
		p.Sender = u.Username
		if u.DisplayName != nil && *u.DisplayName != "" {
			p.Sender = *u.DisplayName
		}
	} else if confab.ErrorCode(err) != confab.CodeNotFound {
		return p, err
	}
	return p, nil
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

// WithUnread returns the payload of the delivery d with Unread set to
// userID's unread messages in the conversation; Unread 0 when the message
// was read meanwhile or the user is no longer a member (then nothing is to
// be said). The deliveries of one event (by EventID) count from one read of
// the conversation, taken at most UnreadSnapshotAge before (by
// PushConfig.Now), so a fan-out reads the conversation about once a second
// rather than once per recipient.
func (f *PushFanout) WithUnread(ctx context.Context, d *confab.OutboxEntry, userID string) (*PushPayload, error) {
	var p PushPayload
	if err := json.Unmarshal(d.Data, &p); err != nil {
		return nil, fmt.Errorf("push payload: %w: %w", err, ErrPermanent)
	}
	conv, err := f.snapshot(ctx, d.EventID, p.ConversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return &p, nil
	} else if err != nil {
		return nil, err
	}
	p.Unread = unread(conv, userID, p.Seq)
	return &p, nil
}

// snapshot returns the conversation as read for the event eventID at most
// UnreadSnapshotAge ago, reading it when there is no such read (or it
// failed); concurrent callers share one read.
func (f *PushFanout) snapshot(ctx context.Context, eventID int64, conversationID string) (*confab.Conversation, error) {
	f.mu.Lock()
	s, ok := f.snaps[eventID]
	if ok {
		select {
		case <-s.ready:
			if s.err != nil || f.cfg.Now().Sub(s.taken) >= UnreadSnapshotAge {
				ok = false
			}
		default: // being read: wait for it
		}
	}
	if !ok {
		s = &convSnapshot{ready: make(chan struct{})}
		if _, had := f.snaps[eventID]; !had {
			f.snapOrder = append(f.snapOrder, eventID)
			if len(f.snapOrder) > unreadSnapshots {
				delete(f.snaps, f.snapOrder[0])
				f.snapOrder = f.snapOrder[1:]
			}
		}
		f.snaps[eventID] = s
		f.mu.Unlock()
		s.taken = f.cfg.Now()
		s.conv, s.err = f.store.GetConversation(context.WithoutCancel(ctx), conversationID)
		close(s.ready)
		return s.conv, s.err
	}
	f.mu.Unlock()
	select {
	case <-s.ready:
		return s.conv, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// unread is userID's unread messages in conv when the message of seq is
// among them; 0 when it was read or userID is no longer a member.
func unread(conv *confab.Conversation, userID string, seq int64) int64 {
	for _, m := range conv.Members {
		if m.UserID == userID && m.LastReadSeq < seq {
			return conv.LastSeq - m.LastReadSeq
		}
	}
	return 0
}

// DropPushSubscription removes a subscription its push service says is
// gone (for any owner) and returns why wrapped in ErrPermanent, giving the
// delivery up; when the removal fails, its error, so the delivery and the
// removal are retried.
func DropPushSubscription(ctx context.Context, store confab.PushStore, endpoint string, why error) error {
	if _, err := store.DeletePushSubscription(ctx, "", endpoint); err != nil {
		return err
	}
	return fmt.Errorf("%w: %w", why, ErrPermanent)
}

// HTTP2Client returns a client that speaks HTTP/2 only, as APNs requires:
// over TLS (ALPN h2), or for an http:// URL (a local test server, see
// CheckPushURL) unencrypted with prior knowledge. It follows no
// redirects.
func HTTP2Client(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP2(true)
	t.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Timeout: timeout, Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// CheckPushURL validates a push service's base URL (--apns-url,
// --fcm-url): CheckURL's rules, and https unless the host is loopback
// (tests, development).
func CheckPushURL(raw string) error {
	if err := CheckURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw) // parsed by CheckURL
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "https" && u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("the URL must be https:// (http:// only on a loopback host)")
	}
	return nil
}
