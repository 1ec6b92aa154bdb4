package chat

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/ratelimit"
	"github.com/google/uuid"
)

// Config holds the service's limits. Zero values mean the defaults below,
// filled in by New.
type Config struct {
	// MaxContentBytes is the largest message content accepted (bytes);
	// larger is BAD_USER_INPUT. Default confab.DefaultMaxContentBytes.
	MaxContentBytes int
	// MaxResume is the largest number of messages a subscription with
	// afterSeq replays before going live, and of changes syncConversation
	// and onConversationChanged reach back with afterChange; further
	// behind is BAD_USER_INPUT ("page with listMessages"). The replay is paged from the store as the
	// subscriber takes it (StreamQueue at a time), so a far resume costs no
	// more memory than a near one. Default DefaultMaxResume.
	MaxResume int
	// StreamQueue is the number of live events buffered per subscription
	// before the subscriber is evicted as too slow. Default 128.
	StreamQueue int
	// GapWait is how long a message stream waits for a missing seq to
	// arrive before reading it from the store. Default 50 ms.
	GapWait time.Duration
	// CursorKey authenticates nextToken cursors. Default: random per
	// process (cursors then do not survive a restart).
	CursorKey []byte
	// NodeID names this process in the presence counts shared by all
	// nodes. Default: random.
	NodeID string
	// PresenceHeartbeat is how often this node restamps its connection
	// counts; counts not restamped for 3 heartbeats (a dead node) stop
	// counting. Default 30 s.
	PresenceHeartbeat time.Duration
	// SummaryDelay coalesces the onConversationUpdated events that new
	// messages cause: at most one store read and one event per conversation
	// per delay. Default 100 ms: conversation lists lag by at most that.
	SummaryDelay time.Duration
	// SendsPerSecond bounds each user's sendMessage, editMessage,
	// addReaction and removeReaction calls together (a token bucket per
	// user holding SendBurst: each grows the change log); over it is
	// RATE_LIMITED with a retry hint. Default DefaultSendsPerSecond; negative means unlimited (load
	// tests).
	SendsPerSecond float64
	// SendBurst is how many sends a user may make at once. Default twice
	// SendsPerSecond.
	SendBurst int
	// ConversationsPerMinute bounds each user's createConversation calls
	// (a token bucket per user holding a minute's worth), so nobody can
	// start conversations with strangers in bulk; over it is RATE_LIMITED
	// with a retry hint. Default DefaultConversationsPerMinute; negative
	// means unlimited (load tests).
	ConversationsPerMinute int
	// EditWindow is how long after sending its author may edit a message;
	// later edits are FORBIDDEN. Zero (the default) means no limit.
	EditWindow time.Duration
	// MaxReactionKeys is the number of distinct reaction keys one message
	// may carry; a reaction with a further key is RATE_LIMITED (a limit,
	// not an error of the input). Default confab.DefaultMaxReactionKeys.
	MaxReactionKeys int
	// ShowEmails says who sees a user's email besides the user: ShowEmailsSelf
	// (the default: nobody else; they see confab.HiddenEmail) or
	// ShowEmailsMembers (users who share a conversation with them).
	ShowEmails string
	// TypingTimeout is how long a setTyping(true) lasts without a refresh;
	// then every onTyping stream reports typing=false by itself. Default
	// DefaultTypingTimeout.
	TypingTimeout time.Duration
	// TypingPerSecond bounds each user's setTyping calls (bursts of twice
	// that); over it is RATE_LIMITED. Default DefaultTypingPerSecond;
	// negative means unlimited.
	TypingPerSecond float64
}

// Service implements every chat operation. It is safe for concurrent use.
type Service struct {
	store  confab.Store
	broker confab.Broker
	cfg    Config
	logger *slog.Logger
	now    func() time.Time
	newID  func() string

	membersMu sync.Mutex
	members   map[string]map[string]struct{} // guarded by membersMu: conversationID → member ids (membership never changes once created)

	stats      counters
	observeLag func(time.Duration) // WithLagObserver; nil when unset
	beforeSend BeforeSend          // WithBeforeSend; nil when unset
	push       *Push               // WithPush; nil when Web Push is off
	sends      *ratelimit.Keyed    // per-user send budget; nil when unlimited
	creates    *ratelimit.Keyed    // per-user createConversation budget; nil when unlimited
	reports    *ratelimit.Keyed    // per-user report budget (report.go)

	typingLimit *ratelimit.Keyed                               // per-user setTyping budget; nil when unlimited
	afterFunc   func(time.Duration, func()) (stop func() bool) // time.AfterFunc (typing expiry); tests replace it

	closeOnce sync.Once
	stopBeat  chan struct{} // closed by Close: stops the presence heartbeat
	beatDone  chan struct{}

	// closed is set by Close, under dirtyMu: operations check it without
	// the lock (requireCaller), conversationChanged under it, so no flush
	// is scheduled once Close waits for flushes.
	closed  atomic.Bool
	dirtyMu sync.Mutex
	dirty   map[string]bool // guarded by dirtyMu: conversations with a summary event pending
	flushes sync.WaitGroup  // pending summary flushes; Add only under dirtyMu while !closed; Close waits for them

	feed storeFeed // feeds message streams from the store while the broker is down

	files *files // WithUploads; nil: files are refused (upload.go)
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLagObserver sets a function called with the delivery lag of each
// live message queued to a subscriber: the time since the message was
// created, just before its commit. It must be cheap and not block.
func WithLagObserver(observe func(time.Duration)) Option {
	return func(s *Service) { s.observeLag = observe }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// New returns a Service over store and broker. It starts the presence
// heartbeat goroutine, which Close stops.
// DefaultMaxResume is Config.MaxResume when it is zero: what a busy
// conversation (200 messages/s) sends in 50 s.
const DefaultMaxResume = 10000

func New(store confab.Store, broker confab.Broker, cfg Config, opts ...Option) *Service {
	if cfg.MaxContentBytes <= 0 {
		cfg.MaxContentBytes = confab.DefaultMaxContentBytes
	}
	if cfg.MaxResume <= 0 {
		cfg.MaxResume = DefaultMaxResume
	}
	if cfg.StreamQueue <= 0 {
		cfg.StreamQueue = 128
	}
	if cfg.GapWait <= 0 {
		cfg.GapWait = 50 * time.Millisecond
	}
	if cfg.NodeID == "" {
		cfg.NodeID = uuid.NewString()
	}
	if cfg.PresenceHeartbeat <= 0 {
		cfg.PresenceHeartbeat = 30 * time.Second
	}
	if cfg.SummaryDelay <= 0 {
		cfg.SummaryDelay = 100 * time.Millisecond
	}
	if cfg.SendsPerSecond == 0 {
		cfg.SendsPerSecond = DefaultSendsPerSecond
	}
	if cfg.SendBurst <= 0 {
		cfg.SendBurst = max(1, int(2*cfg.SendsPerSecond))
	}
	if cfg.ConversationsPerMinute == 0 {
		cfg.ConversationsPerMinute = DefaultConversationsPerMinute
	}
	if cfg.MaxReactionKeys <= 0 {
		cfg.MaxReactionKeys = confab.DefaultMaxReactionKeys
	}
	if cfg.ShowEmails == "" {
		cfg.ShowEmails = ShowEmailsSelf
	}
	typingDefaults(&cfg)
	if len(cfg.CursorKey) == 0 {
		cfg.CursorKey = make([]byte, 32)
		rand.Read(cfg.CursorKey) // never fails (crypto/rand documents it)
	}
	s := &Service{
		store:   store,
		broker:  broker,
		cfg:     cfg,
		logger:  slog.New(slog.DiscardHandler),
		now:     time.Now,
		newID:   func() string { return uuid.Must(uuid.NewV7()).String() },
		members: make(map[string]map[string]struct{}),
		dirty:   make(map[string]bool),
		sends:   ratelimit.New(cfg.SendsPerSecond, cfg.SendBurst),
		creates: ratelimit.New(float64(cfg.ConversationsPerMinute)/60, cfg.ConversationsPerMinute),
		reports: ratelimit.New(ReportsPerMinute/60.0, ReportsPerMinute),

		typingLimit: ratelimit.New(cfg.TypingPerSecond, int(2*cfg.TypingPerSecond)),
		afterFunc:   func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },

		stopBeat: make(chan struct{}),
		beatDone: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.sends.WithClock(s.now)
	s.watchBroker()
	s.creates.WithClock(s.now)
	s.reports.WithClock(s.now)
	s.typingLimit.WithClock(s.now)
	go s.heartbeat()
	return s
}

// counters are the service's event statistics (atomic; read with Stats).
type counters struct {
	stored, published, delivered, evicted, brokerErrors atomic.Uint64
}

// Stats is a snapshot of activity since New.
type Stats struct {
	Stored       uint64 // messages stored by sendMessage (idempotent retries not counted)
	Published    uint64 // events handed to the broker
	Delivered    uint64 // events queued to a subscriber (after filtering and ordering)
	Evicted      uint64 // subscribers dropped as too slow
	BrokerErrors uint64 // failed publishes and subscribes
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	return Stats{
		Stored:       s.stats.stored.Load(),
		Published:    s.stats.published.Load(),
		Delivered:    s.stats.delivered.Load(),
		Evicted:      s.stats.evicted.Load(),
		BrokerErrors: s.stats.brokerErrors.Load(),
	}
}

// Close stops the presence heartbeat and waits for pending
// conversation-summary events. From then on every operation is
// UNAVAILABLE (the service is going away; clients retry elsewhere) and
// nothing more is scheduled; an operation already past its checks
// finishes, but schedules no summary event. Call it before closing the
// store and the broker. It is safe to call more than once and
// concurrently with operations.
func (s *Service) Close() {
	s.dirtyMu.Lock()
	s.closed.Store(true)
	s.dirtyMu.Unlock()
	s.closeOnce.Do(func() { close(s.stopBeat) })
	<-s.beatDone
	s.flushes.Wait()
}

// Config returns the effective configuration (defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// nowUTC returns the current time in UTC at millisecond precision, the
// precision every store keeps.
func (s *Service) nowUTC() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// publish sends ev on topic after a commit. A broker failure does not undo
// the committed work: it is logged, and subscribers recover from the store
// (message streams fill gaps; lists re-read on reconnect).
func (s *Service) publish(ctx context.Context, topic string, ev *confab.Event) {
	s.stats.published.Add(1)
	if err := s.broker.Publish(ctx, topic, ev); err != nil {
		s.stats.brokerErrors.Add(1)
		if s.feed.brokerDown() {
			return // logged once by the feed, which serves subscribers meanwhile
		}
		s.logger.ErrorContext(ctx, "publish failed", "topic", topic, "kind", string(ev.Kind), "err", err)
	}
}

// errConversationNotFound is the one answer for a conversation that is
// missing or hidden from the caller.
func errConversationNotFound() error {
	return confab.Errorf(confab.CodeNotFound, "Conversation not found.")
}

// errClosed is the answer of a closed service: retryable, since another
// node (or this one, restarted) will serve the retry.
func errClosed() error {
	return confab.Errorf(confab.CodeUnavailable, "The service is shutting down; retry.")
}

// requireCaller refuses an empty identity (every operation needs a
// caller) and any operation after Close. Every operation calls it first,
// directly or through requireMember or requireSelf.
func (s *Service) requireCaller(caller confab.Identity) error {
	if s.closed.Load() {
		return errClosed()
	}
	if caller.UserID == "" {
		return confab.Errorf(confab.CodeUnauthenticated, "Authentication required.")
	}
	return nil
}
