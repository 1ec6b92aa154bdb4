// Package email is the notify.Channel of e-mail digests: a member who is
// not connected when a message arrives gets, Delay later, one plain-text
// e-mail listing their conversations with unread messages, unless they
// came back meanwhile or read everything. Messages within the delay share
// one digest (one pending digest per user, kept by the store's coalescing
// window under confab.DigestWindowKey). Each digest carries a signed
// unsubscribe link (unsubscribe.go).
package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/notify"
)

// Limits and defaults.
const (
	// MaxConversations is how many conversations one digest lists; more
	// are counted in one closing line.
	MaxConversations = 10
	// MaxScanned bounds the conversations read (most recent activity
	// first) to find those with unread messages: a user in thousands of
	// conversations costs a few pages, not all of them.
	MaxScanned = 5 * confab.MaxPageLimit
	// PreviewRunes bounds a message preview in a digest.
	PreviewRunes = 140
	// DefaultTimeout bounds one delivery (reads and the SMTP session).
	DefaultTimeout = 15 * time.Second
	// DefaultPresenceStale is how old a node's connection counts may be
	// and still count (chat stamps them every 30 s).
	DefaultPresenceStale = 90 * time.Second
	// maxNamesInTitle is how many members name an unnamed conversation.
	maxNamesInTitle = 3
	// maxKnownWindows bounds the windows a channel remembers (windowCache).
	maxKnownWindows = 4096
)

// Mailer sends one plain-text e-mail (mail/smtp.Mailer). Send wraps the
// server's reply (a *textproto.Error) when the server refused.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Store is what the channel reads: conversations, users, presence and
// notification settings (and the coalescing windows).
type Store interface {
	GetConversation(ctx context.Context, conversationID string) (*confab.Conversation, error)
	GetUser(ctx context.Context, userID string) (*confab.User, error)
	GetUsers(ctx context.Context, ids []string) ([]*confab.User, error)
	ListConversations(ctx context.Context, userID string, p confab.ConversationPage) ([]*confab.Conversation, error)
	ListMessages(ctx context.Context, conversationID string, beforeSeq int64, limit int) ([]*confab.Message, error)
	ConnectedUsers(ctx context.Context, userIDs []string, staleBefore time.Time) (map[string]bool, error)
	confab.NotificationStore
}

// Config configures a Channel; zero durations take the defaults.
type Config struct {
	// Delay is how long after the first unnotified message a digest
	// leaves; 0 turns digests off (Fanout enqueues nothing).
	Delay time.Duration
	// PublicURL is the web client's base URL (https://chat.example.com),
	// the base of every link in a digest. Required.
	PublicURL string
	// Key returns the key that signs unsubscribe links (at least 16
	// bytes, the same on every node). Required. It is called whenever a
	// link is made, so it may read a file that appears after New (serve
	// derives it from the signing key, which the accounts service makes).
	Key           func() ([]byte, error)
	Timeout       time.Duration
	PresenceStale time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

// Channel sends e-mail digests.
type Channel struct {
	store  Store
	mailer Mailer
	cfg    Config
	site   string // the PublicURL's host, naming the server in subjects
	known  windowCache
}

// windowCache remembers the digest windows this channel claimed, so that
// further messages to a member with a digest pending cost no store write:
// a busy conversation's offline members are claimed once per window, not
// once per message. Only an optimisation: the store decides, and a
// forgotten window is asked for again.
type windowCache struct {
	mu    sync.Mutex
	until map[string]time.Time // user id → end of the claimed window
}

// open reports whether userID's window is known to be open at now.
func (w *windowCache) open(userID string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return now.Before(w.until[userID])
}

func (w *windowCache) claimed(userID string, until, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.until) >= maxKnownWindows {
		for id, t := range w.until {
			if !now.Before(t) {
				delete(w.until, id)
			}
		}
		if len(w.until) >= maxKnownWindows {
			clear(w.until)
		}
	}
	if w.until == nil {
		w.until = map[string]time.Time{}
	}
	w.until[userID] = until
}

var _ notify.Channel = (*Channel)(nil)

// New returns the digest channel on store, sending with mailer.
func New(store Store, mailer Mailer, cfg Config) (*Channel, error) {
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("email: Config.PublicURL must be the web client's absolute http(s) URL")
	}
	if cfg.Key == nil {
		return nil, errors.New("email: Config.Key is required")
	}
	if mailer == nil {
		return nil, errors.New("email: a mailer is required")
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
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
	return &Channel{store: store, mailer: mailer, cfg: cfg, site: u.Host}, nil
}

// Name implements notify.Channel.
func (c *Channel) Name() string { return confab.ChannelEmail }

// delivery is the Data of a digest delivery.
type delivery struct {
	UserID string `json:"userId"`
}

// Fanout implements notify.Channel: for message.sent, one digest delivery,
// due Delay from now, for each member who is not the sender, not connected
// on any node, has an e-mail address, has not opted out, and whose level
// and mutes want the message (quiet hours do not apply to e-mail) — unless
// the member already has a digest pending (their window is open: known
// here without a read when this node claimed it, else told by the
// store's claim). Windows
// are claimed last, once every read succeeded; a claim that fails after
// others succeeded leaves those windows taken, so a retry does not enqueue
// a second digest for them.
func (c *Channel) Fanout(ctx context.Context, ev *confab.OutboxEntry) ([]*confab.OutboxEntry, error) {
	if c.cfg.Delay <= 0 || ev.Event != confab.OutboxMessageSent {
		return nil, nil
	}
	var m confab.MessageData
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		return nil, fmt.Errorf("email: message.sent data: %w", err)
	}
	conv, err := c.store.GetConversation(ctx, m.ConversationID)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil // purged since
	} else if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	wanting, err := c.wanting(ctx, conv, &m, now)
	if err != nil {
		return nil, err
	}
	var out []*confab.OutboxEntry
	for _, id := range wanting {
		ok, err := c.store.ClaimPushWindow(ctx, id, confab.DigestWindowKey, now, c.cfg.Delay)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // pending, claimed by another node or before a restart
		}
		c.known.claimed(id, now.Add(c.cfg.Delay), now)
		data, _ := json.Marshal(delivery{UserID: id}) // a struct of a string always marshals
		out = append(out, &confab.OutboxEntry{Channel: confab.ChannelEmail, Target: id, EventID: ev.EventID, Event: ev.Event,
			ConversationID: ev.ConversationID, At: ev.At, Data: data, NotBefore: now.Add(c.cfg.Delay)})
	}
	return out, nil
}

// wanting returns, sorted, the members other than the sender who should
// get a digest of m and have none pending that this node knows of.
func (c *Channel) wanting(ctx context.Context, conv *confab.Conversation, m *confab.MessageData, now time.Time) ([]string, error) {
	direct := len(conv.Members) == 2
	var ids, out []string
	for _, mem := range conv.Members {
		// A member with a digest pending needs nothing read or written.
		if mem.UserID != m.UserID && !c.known.open(mem.UserID, now) {
			ids = append(ids, mem.UserID)
		}
	}
	slices.Sort(ids)
	for chunk := range slices.Chunk(ids, confab.MaxPageLimit) {
		online, err := c.store.ConnectedUsers(ctx, chunk, now.Add(-c.cfg.PresenceStale))
		if err != nil {
			return nil, err
		}
		settings, err := c.store.GetNotificationSettings(ctx, chunk)
		if err != nil {
			return nil, err
		}
		users, err := c.store.GetUsers(ctx, chunk)
		if err != nil {
			return nil, err
		}
		mailable := map[string]bool{}
		for _, u := range users {
			mailable[u.UserID] = validAddress(u.Email)
		}
		for _, id := range chunk {
			s := settings[id]
			if s == nil {
				s = &confab.NotificationSettings{}
			}
			if !online[id] && mailable[id] && !s.EmailDigestsOff && s.WantsMessage(conv.ConversationID, slices.Contains(m.Mentions, id), direct, now) {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

func validAddress(addr string) bool {
	if addr == "" || addr == confab.HiddenEmail {
		return false
	}
	_, err := mail.ParseAddress(addr)
	return err == nil
}

// Deliver implements notify.Channel: send the user's digest, unless they
// have been connected since the message (LastSeen after it, or connected
// now), opted out meanwhile, or have nothing unread they want to hear of;
// then nothing is sent and the delivery is done. A 5xx reply of the SMTP
// server is permanent; anything else (4xx, network) is retried.
func (c *Channel) Deliver(ctx context.Context, d *confab.OutboxEntry) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	now := c.cfg.Now()
	u, s, err := c.away(ctx, d, now)
	if err != nil || u == nil {
		return err
	}
	dg, err := c.digest(ctx, u, s, now)
	if err != nil || len(dg.items) == 0 {
		return err
	}
	key, err := signingKey(c.cfg.Key)
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("%d unread %s on %s", dg.unread, plural(dg.unread, "message", "messages"), c.site)
	if err := c.mailer.Send(ctx, u.Email, subject, c.render(u, dg, key)); err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) && reply.Code >= 500 {
			return fmt.Errorf("email: %w: %w", err, notify.ErrPermanent)
		}
		return fmt.Errorf("email: %w", err)
	}
	c.cfg.Logger.Debug("e-mail digest sent", "user_id", u.UserID, "conversations", len(dg.items)+dg.more, "unread", dg.unread)
	return nil
}

// away returns the recipient of d and their settings when they still
// want a digest: the account exists with an address, they have not been
// connected since the message nor are now, and they have not opted out.
// Otherwise it returns a nil user.
func (c *Channel) away(ctx context.Context, d *confab.OutboxEntry, now time.Time) (*confab.User, *confab.NotificationSettings, error) {
	u, err := c.store.GetUser(ctx, d.Target)
	if confab.ErrorCode(err) == confab.CodeNotFound {
		return nil, nil, nil // the account is gone
	} else if err != nil {
		return nil, nil, err
	}
	if !validAddress(u.Email) || (u.LastSeen != nil && u.LastSeen.After(d.At)) {
		return nil, nil, nil
	}
	online, err := c.store.ConnectedUsers(ctx, []string{u.UserID}, now.Add(-c.cfg.PresenceStale))
	if err != nil || online[u.UserID] {
		return nil, nil, err
	}
	all, err := c.store.GetNotificationSettings(ctx, []string{u.UserID})
	if err != nil {
		return nil, nil, err
	}
	s := all[u.UserID]
	if s == nil {
		s = &confab.NotificationSettings{}
	}
	if s.EmailDigestsOff {
		return nil, nil, nil
	}
	return u, s, nil
}

// digest is what one e-mail lists.
type digest struct {
	items  []item
	more   int   // conversations with unread messages beyond the items
	unread int64 // unread messages in all of them
}

type item struct {
	conversationID, title string
	unread                int64
	preview               string // "Sender: start of the message"; "" when hidden
}

// digest finds the user's conversations with unread messages that their
// settings want (level and mutes), most recent first, with previews.
func (c *Channel) digest(ctx context.Context, u *confab.User, s *confab.NotificationSettings, now time.Time) (*digest, error) {
	dg := &digest{}
	convs, err := c.unread(ctx, u.UserID, s, now, dg)
	if err != nil || len(convs) == 0 {
		return dg, err
	}
	latest := map[string]*confab.Message{}
	if !s.HidePreviews {
		for _, conv := range convs {
			ms, err := c.store.ListMessages(ctx, conv.ConversationID, 0, 1)
			if err != nil {
				return nil, err
			}
			if len(ms) == 1 && ms[0].Seq > conv.Member(u.UserID).LastReadSeq {
				latest[conv.ConversationID] = ms[0]
			}
		}
	}
	names, err := c.names(ctx, convs, latest)
	if err != nil {
		return nil, err
	}
	for _, conv := range convs {
		it := item{conversationID: conv.ConversationID, title: title(conv, u.UserID, names), unread: conv.LastSeq - conv.Member(u.UserID).LastReadSeq}
		if m := latest[conv.ConversationID]; m != nil {
			if p := preview(m); p != "" {
				it.preview = nameOf(names, m.UserID) + ": " + p
			}
		}
		dg.items = append(dg.items, it)
	}
	return dg, nil
}

// unread returns the first MaxConversations of the user's conversations
// with unread messages that s wants, scanning at most MaxScanned, and
// counts the rest and every unread message in dg.
func (c *Channel) unread(ctx context.Context, userID string, s *confab.NotificationSettings, now time.Time, dg *digest) ([]*confab.Conversation, error) {
	var convs []*confab.Conversation
	page := confab.ConversationPage{Limit: confab.MaxPageLimit}
	for scanned := 0; scanned < MaxScanned; {
		batch, err := c.store.ListConversations(ctx, userID, page)
		if err != nil {
			return nil, err
		}
		scanned += len(batch)
		for _, conv := range batch {
			mem := conv.Member(userID)
			if mem == nil || conv.LastSeq <= mem.LastReadSeq ||
				!s.WantsMessage(conv.ConversationID, mem.UnreadMentions > 0, len(conv.Members) == 2, now) {
				continue
			}
			dg.unread += conv.LastSeq - mem.LastReadSeq
			if len(convs) == MaxConversations {
				dg.more++
				continue
			}
			convs = append(convs, conv)
		}
		if len(batch) < page.Limit {
			break
		}
		last := batch[len(batch)-1]
		page.After = &confab.ActivityCursor{ActivityAt: last.ActivityAt(), ConversationID: last.ConversationID}
	}
	return convs, nil
}

// names returns, by user id, the display names that title and the
// previews show: the first members of unnamed conversations and the
// senders of latest.
func (c *Channel) names(ctx context.Context, convs []*confab.Conversation, latest map[string]*confab.Message) (map[string]string, error) {
	var ids []string
	for _, conv := range convs {
		if !named(conv) {
			ps := conv.Participants()
			ids = append(ids, ps[:min(len(ps), maxNamesInTitle+1)]...) // +1: the user may be among them
		}
	}
	for _, m := range latest {
		ids = append(ids, m.UserID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := map[string]string{}
	for chunk := range slices.Chunk(ids, confab.MaxPageLimit) {
		users, err := c.store.GetUsers(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			out[u.UserID] = u.Username
			if u.DisplayName != nil && *u.DisplayName != "" {
				out[u.UserID] = *u.DisplayName
			}
		}
	}
	return out, nil
}

func nameOf(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return oneLine(n)
	}
	return "someone" // the account was deleted
}

func named(conv *confab.Conversation) bool {
	return conv.Name != nil && strings.TrimSpace(*conv.Name) != ""
}

// title names a conversation: its name, else its first other members.
func title(conv *confab.Conversation, self string, names map[string]string) string {
	if named(conv) {
		return oneLine(*conv.Name)
	}
	var others []string
	for _, id := range conv.Participants() {
		if id != self {
			others = append(others, id)
		}
	}
	shown := others[:min(len(others), maxNamesInTitle)]
	for i, id := range shown {
		shown[i] = nameOf(names, id)
	}
	switch {
	case len(shown) == 0:
		return "Only you"
	case len(others) > len(shown):
		return strings.Join(shown, ", ") + fmt.Sprintf(" and %d more", len(others)-len(shown))
	default:
		return strings.Join(shown, ", ")
	}
}

// preview is the start of a text message; other kinds are named, not shown
// (an image's or a file's content is a URL or a key, not words).
func preview(m *confab.Message) string {
	switch m.MessageType {
	case confab.MessageText:
	case confab.MessageImage:
		return "(an image)"
	case confab.MessageFile:
		return "(a file)"
	default:
		return ""
	}
	s, n := oneLine(m.Content), 0
	for i := range s {
		if n == PreviewRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// oneLine replaces control characters (line breaks included) with spaces,
// so that text others wrote cannot lay out lines of the e-mail (a fake
// link on a line of its own).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// render is the digest's plain-text body.
func (c *Channel) render(u *confab.User, dg *digest, key []byte) string {
	var b strings.Builder
	name := u.Username
	if u.DisplayName != nil && *u.DisplayName != "" {
		name = *u.DisplayName
	}
	convs := len(dg.items) + dg.more
	fmt.Fprintf(&b, "Hello %s,\n\nwhile you were away, %d %s arrived in %d %s on %s:\n",
		oneLine(name), dg.unread, plural(dg.unread, "message", "messages"), convs, plural(int64(convs), "conversation", "conversations"), c.site)
	for _, it := range dg.items {
		fmt.Fprintf(&b, "\n* %s: %d unread\n", it.title, it.unread)
		if it.preview != "" {
			fmt.Fprintf(&b, "  %s\n", it.preview)
		}
		fmt.Fprintf(&b, "  %s/c/%s\n", c.cfg.PublicURL, url.PathEscape(it.conversationID))
	}
	if dg.more > 0 {
		fmt.Fprintf(&b, "\n…and %d more %s.\n", dg.more, plural(int64(dg.more), "conversation", "conversations"))
	}
	fmt.Fprintf(&b, "\nOpen confab: %s/\n", c.cfg.PublicURL)
	fmt.Fprintf(&b, "\n-- \nYou get this e-mail because messages arrived while you were away.\nTo get no more of them: %s\n",
		UnsubscribeURL(c.cfg.PublicURL, key, u.UserID))
	return b.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
