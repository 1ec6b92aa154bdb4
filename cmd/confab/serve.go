package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/notify"
	"github.com/confab-chat/confab/notify/apns"
	"github.com/confab-chat/confab/notify/fcm"
	"github.com/confab-chat/confab/notify/webhook"
	"github.com/confab-chat/confab/notify/webpush"
	"github.com/confab-chat/confab/server"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/confab-chat/confab/store/dynamodb"
	"github.com/prometheus/client_golang/prometheus"
)

type serveConfig struct {
	HTTP             string
	Data             string
	Store            string
	Broker           string
	Demo             bool
	Retention        time.Duration
	TLSCert, TLSKey  string
	TLSSelfSigned    bool
	PublicURL        string
	Cognito          cognitoConfig
	KeyFile          string
	Issuer           string
	AccessTTL        time.Duration
	AllowedOrigins   string
	MaxContentBytes  int
	MaxBodyBytes     int
	Introspection    bool
	KeepAlive        time.Duration
	MaxSubscriptions int
	LogLevel         string
	ShutdownTimeout  time.Duration
	SignupsPerMinute int
	LoginsPerMinute  int
	SendsPerSecond   float64
	ConvsPerMinute   int
	ShowEmails       string
	ConnsPerUser     int
	MaxResume        int
	ConnsPerAddress  int
	DebugAddr        string
	ReadTimeout      time.Duration
	WriteTimeout     time.Duration
	ReqsPerAddress   int
	MetricsAddr      string
	MetricsToken     string
	Postgres         string
	NATS             string
	DynamoDB         dynamodb.Config
	EditWindow       time.Duration
	MaxReactionKeys  int
	TypingTimeout    time.Duration
	TypingPerSecond  float64
	Blob             blobConfig

	BeforeSendURL, BeforeSendFail, BeforeSendSecret string
	BeforeSendTimeout                               time.Duration
	WebhookDisableAfter                             int
	OutboxLease, OutboxRetention                    time.Duration
	WebPush                                         bool
	VAPIDKeyFile, VAPIDSubject                      string
	PushAllowPrivate                                bool
	PushSenders                                     int
	DigestDelay                                     time.Duration
	Mobile                                          mobilePushConfig
	Workspaces                                      string // the workspaces file
	Signup                                          signupConfig
}

// unlimitedFlags turn off every per-user and per-address limit: the load
// tool's clients all come from one address and share a few accounts.
var unlimitedFlags = []string{
	"--signups-per-minute", "-1", "--logins-per-minute", "-1", "--sends-per-second", "-1",
	"--max-conns-per-user", "-1", "--max-conns-per-address", "-1", "--max-requests-per-address", "-1", "--conversations-per-minute", "-1",
}

// serveSettings is the table of confab serve's settings.
func serveSettings(c *serveConfig) []setting {
	return append([]setting{
		{"http", "localhost:8080", "HTTP listen address", str(&c.HTTP)},
		{"data", "./confab-data", "data directory (embedded store, signing key)", str(&c.Data)},
		{"store", "sqlite", "store engine: sqlite (embedded), postgres or dynamodb", str(&c.Store)},
		{"postgres", "", "PostgreSQL URL for --store postgres (postgres://user@host:5432/db)", str(&c.Postgres)},
		{"broker", "inproc", "event broker: inproc (one node) or nats (several nodes)", str(&c.Broker)},
		{"nats", "", "NATS URL for --broker nats (nats://127.0.0.1:4222)", str(&c.NATS)},
		{"workspaces", "", "JSON file of the workspaces besides the default one, each served under /w/<id>/ with its own store namespace, broker subjects and token issuer (docs/workspaces.md); the same file on every node", str(&c.Workspaces)},
		{"demo", "false", "create the recipe's two test users and a conversation between them if absent", boolean(&c.Demo)},
		{"retention", "0", "delete messages older than this for good, in the background (e.g. 2160h for 90 days); 0 keeps them forever", duration(&c.Retention)},
		{"tls-cert", "", "TLS certificate file (PEM); with --tls-key the server speaks HTTPS/WSS", str(&c.TLSCert)},
		{"tls-key", "", "TLS private key file (PEM)", str(&c.TLSKey)},
		{"tls-self-signed", "false", "serve HTTPS/WSS with a self-signed certificate for localhost, 127.0.0.1, ::1 and the --public-url host, made once in <data>/tls (development)", boolean(&c.TLSSelfSigned)},
		{"public-url", "", "the base URL clients use (https://chat.example.com): the token issuer and the host of the self-signed certificate", str(&c.PublicURL)},
		{"key-file", "", "JWT signing key (PEM, RSA); created if missing. Default <data>/jwt-signing-key.pem. Share it between nodes", str(&c.KeyFile)},
		{"issuer", "", "token issuer (iss), overriding the default: --public-url if set, else urn:confab:<hash of the signing key file>, the same on every node sharing --key-file", str(&c.Issuer)},
		{"access-ttl", "0", "lifetime of id and access tokens", pkgDefault(duration(&c.AccessTTL), "auth", auth.DefaultAccessTTL)},
		{"allowed-origins", "", "comma-separated browser origins allowed by CORS and WebSocket upgrades (* for any); the server's own origin is always allowed", str(&c.AllowedOrigins)},
		{"max-content-bytes", "0", "largest message content in bytes", pkgDefault(integer(&c.MaxContentBytes), "chat", confab.DefaultMaxContentBytes)},
		{"max-body-bytes", "0", "largest POST /graphql body in bytes", pkgDefault(integer(&c.MaxBodyBytes), "server", server.DefaultMaxBodyBytes)},
		{"introspection", "true", "allow GraphQL introspection (turn off in production if you like)", boolean(&c.Introspection)},
		{"keepalive", "0", "WebSocket keep-alive interval; silent peers are dropped after 3", pkgDefault(duration(&c.KeepAlive), "realtime", realtime.DefaultKeepAlive)},
		{"max-subscriptions", "0", "most active subscriptions per WebSocket connection", pkgDefault(integer(&c.MaxSubscriptions), "realtime", realtime.DefaultMaxSubscriptions)},
		{"log-level", "info", "log level: debug, info, warn, error", str(&c.LogLevel)},
		{"shutdown-timeout", "10s", "how long a graceful shutdown may take", duration(&c.ShutdownTimeout)},
		{"signups-per-minute", "0", "sign-ups allowed per client address per minute (-1: unlimited)", pkgDefault(integer(&c.SignupsPerMinute), "auth", auth.DefaultSignupsPerMinute)},
		{"logins-per-minute", "0", "sign-in attempts allowed per client address per minute, successful or not (-1: unlimited)", pkgDefault(integer(&c.LoginsPerMinute), "auth", auth.DefaultLoginsPerMinute)},
		{"max-resume", "0", "messages (afterSeq) or changes (afterChange, syncConversation) a client may be behind when it resumes; further behind is refused (the client reloads with listMessages)", pkgDefault(integer(&c.MaxResume), "chat", chat.DefaultMaxResume)},
		{"sends-per-second", "0", "sendMessage, editMessage and add/removeReaction calls allowed per user per second together, bursts of twice that (-1: unlimited)", pkgDefault(float(&c.SendsPerSecond), "chat", chat.DefaultSendsPerSecond)},
		{"max-conns-per-user", "0", "live WebSocket connections per user on this node (-1: unlimited)", pkgDefault(integer(&c.ConnsPerUser), "realtime", realtime.DefaultMaxConnsPerUser)},
		{"max-conns-per-address", "0", "live WebSocket connections per client address (IPv6: per /64) on this node (-1: unlimited)", pkgDefault(integer(&c.ConnsPerAddress), "realtime", realtime.DefaultMaxConnsPerAddress)},
		{"read-timeout", "10s", "time to receive a request body once its headers are in (WebSocket upgrades exempt)", duration(&c.ReadTimeout)},
		{"write-timeout", "30s", "time to answer a request once its body is in (WebSocket upgrades exempt)", duration(&c.WriteTimeout)},
		{"max-requests-per-address", "64", "unfinished HTTP requests per client address (IPv6: per /64), not WebSockets; more get 429 (-1: unlimited)", integer(&c.ReqsPerAddress)},
		{"metrics-addr", "", "serve GET /metrics on this address only (keep it private) instead of on --http", str(&c.MetricsAddr)},
		{"metrics-token", "", "require Authorization: Bearer <token> on GET /metrics", str(&c.MetricsToken)},
		{"conversations-per-minute", "0", "createConversation calls allowed per user per minute, in bursts of as many (-1: unlimited)", pkgDefault(integer(&c.ConvsPerMinute), "chat", chat.DefaultConversationsPerMinute)},
		{"show-emails", "self", "who sees a user's email besides the user: self (nobody else; others see " + confab.HiddenEmail + ") or members (users who share a conversation)", str(&c.ShowEmails)},
		{"debug-addr", "", "serve net/http/pprof on this address (keep it on loopback); off when empty", str(&c.DebugAddr)},
		{"edit-window", "0", "how long after sending its author may edit a message (e.g. 15m); 0: no limit", duration(&c.EditWindow)},
		{"max-reaction-keys", "0", "distinct reaction keys one message may carry; a further key is refused", pkgDefault(integer(&c.MaxReactionKeys), "confab", confab.DefaultMaxReactionKeys)},
		{"typing-timeout", "0", "how long a setTyping(true) lasts without a refresh; then subscribers see typing=false", pkgDefault(duration(&c.TypingTimeout), "chat", chat.DefaultTypingTimeout)},
		{"typing-per-second", "0", "setTyping calls allowed per user per second, bursts of twice that (-1: unlimited)", pkgDefault(float(&c.TypingPerSecond), "chat", chat.DefaultTypingPerSecond)},
		{"before-send-url", "", "POST every message here before it is stored; the answer allows, rejects or rewrites it (docs/webhooks.md); off when empty", str(&c.BeforeSendURL)},
		{"before-send-timeout", "1s", "hard timeout of a before-send call", duration(&c.BeforeSendTimeout)},
		{"before-send-fail", "open", "when the before-send endpoint fails or times out: open (send unchanged) or closed (refuse the send)", str(&c.BeforeSendFail)},
		{"before-send-secret", "", "sign before-send calls like webhooks with this secret (whsec_…); unsigned when empty", str(&c.BeforeSendSecret)},
		{"webhook-disable-after", "0", "failed deliveries in a row that disable a webhook endpoint (confab webhook enable turns it back on)", pkgDefault(integer(&c.WebhookDisableAfter), "webhook", webhook.DefaultDisableAfter)},
		{"outbox-lease", "0", "how long a node holds the outbox entries it claimed; a dead node's entries go to another node after it", pkgDefault(duration(&c.OutboxLease), "notify", notify.DefaultLease)},
		{"outbox-retention", "0", "how long delivered outbox events are kept for confab webhook replay", pkgDefault(duration(&c.OutboxRetention), "notify", notify.DefaultRetention)},
		{"web-push", "true", "send Web Push notifications to members who are not connected (SQLite, PostgreSQL)", boolean(&c.WebPush)},
		{"vapid-key-file", "", "Web Push VAPID key pair (JSON); created if missing. Default <data>/vapid.json. Share it between nodes", str(&c.VAPIDKeyFile)},
		{"vapid-subject", "mailto:postmaster@localhost", "the contact push services see in VAPID requests (mailto: or https:); set one that reaches you", str(&c.VAPIDSubject)},
		{"push-allow-private", "false", "let push endpoints reach loopback, private and link-local addresses (tests, a push service inside the network); off, such a subscription is dropped", boolean(&c.PushAllowPrivate)},
		{"push-senders", "0", "Web Push notifications this node encrypts and posts at once; the rest of a large conversation's fan-out waits, so it never takes more than about that many cores from the sends", pkgDefault(integer(&c.PushSenders), "webpush", webpush.DefaultSenders)},
		{"digest-delay", "0", "e-mail members who have been away this long a digest of their unread messages, at most one per user per delay (e.g. 30m; needs --smtp-url and --public-url; users can opt out); 0: off", duration(&c.DigestDelay)},
		{"apns-key-file", "", "APNs token-auth key (.p8, PKCS #8 PEM); with --apns-key-id, --apns-team-id and --apns-topic it turns on iOS push (docs/push.md)", str(&c.Mobile.APNsKeyFile)},
		{"apns-key-id", "", "the APNs key's id (kid)", str(&c.Mobile.APNsKeyID)},
		{"apns-team-id", "", "the Apple developer team id (iss)", str(&c.Mobile.APNsTeamID)},
		{"apns-topic", "", "the iOS app's bundle id (apns-topic)", str(&c.Mobile.APNsTopic)},
		{"apns-url", apns.DefaultURL, "the APNs endpoint: production, or https://api.sandbox.push.apple.com for development builds", str(&c.Mobile.APNsURL)},
		{"fcm-credentials-file", "", "Firebase service account key (JSON); turns on Android push through FCM HTTP v1 (docs/push.md)", str(&c.Mobile.FCMCredentialsFile)},
		{"fcm-project-id", "", "the Firebase project id; default the key file's project_id", str(&c.Mobile.FCMProjectID)},
		{"fcm-url", fcm.DefaultURL, "the FCM endpoint", str(&c.Mobile.FCMURL)},
	}, append(append(append(cognitoSettings(&c.Cognito), dynamoSettings(&c.DynamoDB)...), blobSettings(&c.Blob)...), signupSettings(&c.Signup)...)...)
}

func (m *Main) serve(ctx context.Context, args []string) error {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, "usage: confab serve [flags]")
	if err := parse(fs, serveSettings(&c), args, m.Getenv, m.Environ); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	if err := c.check(); err != nil {
		return err
	}
	logger, err := newLogger(m.Stderr, c.LogLevel)
	if err != nil {
		return err
	}
	mailer, err := openMailer(c.Cognito.SMTPURL, c.Cognito.MailFrom)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}

	workspaces, err := readWorkspaces(c.Workspaces)
	if err != nil {
		return err
	}
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.Data, "jwt-signing-key.pem")
	}
	if c.VAPIDKeyFile == "" { // one key pair for every workspace
		c.VAPIDKeyFile = filepath.Join(c.Data, webpush.KeysFile)
	}
	if c.TLSSelfSigned {
		var made bool
		c.TLSCert, c.TLSKey, made, err = ensureSelfSigned(c.Data, selfSignedHosts(c.HTTP, c.PublicURL), time.Now())
		if err != nil {
			return err
		}
		logger.Info("self-signed TLS certificate", "cert", c.TLSCert, "made", made)
		fmt.Fprint(m.Stdout, trustHint(c.TLSCert))
	}

	reg := prometheus.NewRegistry()
	br, err := openBroker(c.Broker, c.NATS, logger)
	if err != nil {
		return err
	}
	defer br.Close() // after every workspace's services (defers run last-in, first-out)
	shared := tenantShared{broker: br, reg: reg, labelled: len(workspaces) > 0, mailer: mailer, logger: logger, images: imagePool(c.Blob)}
	defWS, err := c.Signup.defaultWorkspace()
	if err != nil {
		return err
	}
	def, err := openTenant(ctx, &c, defWS, shared)
	if err != nil {
		return err
	}
	defer def.close()
	if c.Demo {
		if err := createDemo(ctx, def.auth, def.chat, def.store); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	servers := map[string]*server.Server{}
	for _, ws := range workspaces {
		tc := c.forWorkspace(ws.ID)
		t, err := openTenant(ctx, &tc, ws, shared)
		if err != nil {
			return fmt.Errorf("workspace %s: %w", ws.ID, err)
		}
		defer t.close()
		servers[ws.ID] = t.server(&tc, nil)
	}
	srv := def.server(&c, servers)
	if err := srv.Open(); err != nil {
		return err
	}
	if c.DebugAddr != "" {
		stopDebug, err := serveDebug(c.DebugAddr, logger)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	logger.Info("confab serving", "url", srv.URL(), "metrics", srv.MetricsURL(), "data", c.Data, "store", c.Store, "broker", c.Broker, "workspaces", len(workspaces), "version", version)
	fmt.Fprintf(m.Stdout, "confab %s listening on %s\n", version, srv.URL())
	if m.Ready != nil {
		m.Ready(srv.URL())
	}

	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Close(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// check validates what can be checked before anything is opened.
func (c *serveConfig) check() error {
	if c.ShowEmails != chat.ShowEmailsSelf && c.ShowEmails != chat.ShowEmailsMembers {
		return usageError{fmt.Sprintf("serve: --show-emails %q: want self or members", c.ShowEmails)}
	}
	if c.Retention < 0 {
		return usageError{fmt.Sprintf("serve: --retention %s is negative (0 keeps messages forever)", c.Retention)}
	}
	if c.TLSSelfSigned && (c.TLSCert != "" || c.TLSKey != "") {
		return usageError{"serve: --tls-self-signed and --tls-cert/--tls-key exclude each other"}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return usageError{"serve: --tls-cert and --tls-key go together"}
	}
	publicURL, err := checkPublicURL(c.PublicURL)
	if err != nil {
		return err
	}
	c.PublicURL = publicURL
	if err := c.Mobile.check(); err != nil {
		return err
	}
	return c.Cognito.check()
}

// deriveKey derives a secret for purpose from the signing key file, so
// every node that shares the signing key also shares it.
func deriveKey(keyFile, purpose string) ([]byte, error) {
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write(pem)
	return h.Sum(nil), nil
}

func newLogger(w interface{ Write([]byte) (int, error) }, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Sprintf("invalid --log-level %q", level)}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// The recipe's test users (seed: admin-create-user + permanent password).
var demoUsers = []auth.SignUpInput{
	{Email: "testuser1@example.com", Password: "TestPassword123!", Username: "testuser1", DisplayName: "Test User 1"},
	{Email: "testuser2@example.com", Password: "TestPassword123!", Username: "testuser2", DisplayName: "Test User 2"},
}

// createDemo creates the demo users and a conversation between them, each
// only if absent, so it is safe on every start.
func createDemo(ctx context.Context, a *auth.Service, c *chat.Service, st confab.Store) error {
	var ids []string
	for _, in := range demoUsers {
		acct, err := st.GetAccountByLogin(ctx, in.Email)
		if confab.ErrorCode(err) == confab.CodeNotFound {
			u, err := a.CreateAccount(ctx, in)
			if err != nil {
				return err
			}
			ids = append(ids, u.UserID)
			continue
		}
		if err != nil {
			return err
		}
		ids = append(ids, acct.User.UserID)
	}
	owner := confab.Identity{UserID: ids[0]}
	page, err := c.ListConversations(ctx, owner, ids[0], nil, nil)
	if err != nil {
		return err
	}
	for _, conv := range page.Items {
		if conv.Member(ids[1]) != nil {
			return nil
		}
	}
	name := "Demo conversation"
	_, err = c.CreateConversation(ctx, owner, &name, ids[1:])
	return err
}
