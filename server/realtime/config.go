package realtime

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// Config holds the engine's dependencies and limits. Zero limits mean the
// defaults given beside each field.
type Config struct {
	// Authenticate verifies a token and returns the caller.
	Authenticate func(ctx context.Context, token string) (confab.Identity, error)
	// Connect records a live connection of a user (presence) and returns
	// the function that ends it.
	Connect func(ctx context.Context, userID string) (release func())

	// KeepAlive is the interval of server keep-alives (WebSocket pings, and
	// the protocol's own "ka" where it has one). Default 30 s. A peer that
	// sends nothing, not even a pong, for 3 intervals is disconnected.
	KeepAlive time.Duration
	// InitTimeout is how long a client has to send connection_init after
	// the upgrade. Default 10 s.
	InitTimeout time.Duration
	// MaxSubscriptions is the most operations one connection may have
	// active at once; more is refused (RATE_LIMITED). Default 100, AppSync's
	// quota.
	MaxSubscriptions int
	// MaxFrameBytes is the largest frame accepted from a client; a larger
	// one closes the connection (1009). Default 64 KiB.
	MaxFrameBytes int64
	// MaxQueuedFrames bounds the frames waiting to be written to one
	// connection; beyond it the client is too slow and is disconnected.
	// Default 4096.
	MaxQueuedFrames int
	// OpsPerSecond bounds subscribe/stop messages per connection (token
	// bucket with a burst of 2×). Default 20.
	OpsPerSecond float64
	// MaxConnsPerUser bounds one user's live connections on this node;
	// more are refused at connection_init (graphql-transport-ws: close
	// 1013, AppSync: connection_error LimitExceededError). Default 100;
	// negative means unlimited.
	MaxConnsPerUser int
	// MaxConnsPerAddress bounds the live connections from one client
	// address (IPv6 by /64) on this node; more are refused before the
	// upgrade with HTTP 429. Default 1000; negative means unlimited.
	MaxConnsPerAddress int
	// SharedFields names the subscription root fields whose results do not
	// depend on the subscriber: an item of such a stream is rendered (by
	// the executor) once for all the subscriptions with the same document
	// and variables, and the result reused for the rest. None by default.
	SharedFields map[string]bool
	// OnShared, when set, is called for each result served from another
	// subscription's rendering (those skip the executor and its
	// extensions, so metrics count them here).
	OnShared func(field string)
	// WriteTimeout bounds one network write. Default 10 s.
	WriteTimeout time.Duration
	// AllowedOrigins lists the Origins accepted on browser upgrades
	// ("*" accepts any). A request without Origin (a non-browser client)
	// or from the server's own host is always accepted.
	AllowedOrigins []string

	Logger *slog.Logger

	// closeTimeout bounds writing a close frame (Conn.Close): a peer that
	// does not read holds its Close this long. Always 1 s but in this
	// package's tests, which hold a wedged close longer.
	closeTimeout time.Duration
}

// The defaults of the limits an operator may set (cmd/confab's flags show
// them); a zero Config field stands for its default.
const (
	DefaultKeepAlive          = 30 * time.Second
	DefaultMaxSubscriptions   = 100
	DefaultMaxConnsPerUser    = 100
	DefaultMaxConnsPerAddress = 1000
)

func (c *Config) setDefaults() {
	if c.KeepAlive <= 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = 10 * time.Second
	}
	if c.MaxSubscriptions <= 0 {
		c.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.MaxQueuedFrames <= 0 {
		c.MaxQueuedFrames = 4096
	}
	if c.OpsPerSecond <= 0 {
		c.OpsPerSecond = 20
	}
	if c.MaxConnsPerUser == 0 {
		c.MaxConnsPerUser = DefaultMaxConnsPerUser
	}
	if c.MaxConnsPerAddress == 0 {
		c.MaxConnsPerAddress = DefaultMaxConnsPerAddress
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.closeTimeout <= 0 {
		c.closeTimeout = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Connect == nil {
		c.Connect = func(context.Context, string) func() { return func() {} }
	}
}

// checkOrigin implements the Origin allow-list for browser upgrades.
func (c *Config) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}
