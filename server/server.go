package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/admin"
	"github.com/confab-chat/confab/auth"
	"github.com/confab-chat/confab/chat"
	"github.com/confab-chat/confab/graph"
	"github.com/confab-chat/confab/server/appsync"
	"github.com/confab-chat/confab/server/cognito"
	"github.com/confab-chat/confab/server/gqlws"
	"github.com/confab-chat/confab/server/realtime"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxBodyBytes bounds a POST /graphql body when Config.MaxBodyBytes
// is zero.
const DefaultMaxBodyBytes = 256 << 10

// Config configures the HTTP server. Zero values mean the defaults given
// beside each field.
type Config struct {
	// Addr is the listen address. Default "localhost:8080".
	Addr string
	// TLSCertFile and TLSKeyFile, when both set, make the server speak
	// HTTPS and WSS itself (Amplify v6 always dials wss://, protocols.md
	// §1.1).
	TLSCertFile, TLSKeyFile string
	// MaxBodyBytes bounds a POST /graphql body; larger is 413. Default
	// 256 KiB.
	MaxBodyBytes int64
	// AllowedOrigins lists browser origins allowed by CORS and on
	// WebSocket upgrades ("*" allows any). The server's own origin is
	// always allowed.
	AllowedOrigins []string
	// GraphQL limits (depth, complexity, introspection).
	GraphQL graph.Limits
	// Realtime configures both WebSocket protocols; Authenticate and
	// Connect are filled in by New.
	Realtime realtime.Config
	// Cognito serves the Cognito Identity Provider API at /cognito and
	// /cognito/ (server/cognito). Nil: one with the accounts service's
	// pool and client, no client secret and no admin key.
	Cognito http.Handler
	// ReadTimeout bounds the time to receive a request's body, from the
	// end of its headers (which must come within 10 s). WebSocket
	// upgrades are exempt. Default 10 s.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time to answer a request once its body is
	// in. WebSocket upgrades are exempt. Default 30 s.
	WriteTimeout time.Duration
	// MaxRequestsPerAddress bounds the HTTP requests (not WebSockets) one
	// client address (IPv6: one /64) may have unfinished at once; more are
	// answered 429. Default 64; negative: unlimited.
	MaxRequestsPerAddress int
	// MetricsAddr, when set, serves GET /metrics on this listen address
	// alone (keep it on a private network) instead of the main one.
	MetricsAddr string
	// MetricsToken, when set, is required on GET /metrics as
	// "Authorization: Bearer <token>"; other requests get 401.
	MetricsToken string
	// Version is reported by /healthz.
	Version string
	// Admin serves the admin API (graph/schema/admin.graphqls). Nil: it
	// answers FORBIDDEN to everyone.
	Admin *admin.Service
	// Blobs serves the disk blob engine's presigned URLs on
	// BlobPathPrefix (blobs.go). Nil: that path is 404 (the S3 engine's
	// URLs point at the object store).
	Blobs http.Handler
	// Unsubscribe serves the e-mail digests' unsubscribe links (GET
	// UnsubscribePath); the handler checks their signatures. Nil: that
	// path is the web client's.
	Unsubscribe http.Handler
	// Workspace is the id of the workspace this server serves: "" for the
	// default workspace, whose server owns the listener. A workspace's
	// server is never opened: the default's serves it under /w/<id>/
	// (Workspaces), and it has no /healthz, /readyz or /metrics, which
	// are the process's. Its collectors carry the label workspace=<id>.
	Workspace string
	// Workspaces are the other workspaces' servers by id (New, never
	// Open). This server serves each under /w/<id>/ with that prefix
	// stripped, answers any other /w/<id>/ with 404, and shares its
	// per-address request limit with them. With workspaces, this
	// server's collectors carry workspace="default".
	Workspaces map[string]*Server
}

// WorkspacePathPrefix is where a workspace is served: /w/<id>/….
const WorkspacePathPrefix = "/w/"

// UnsubscribePath is where Config.Unsubscribe is served
// (notify/email.UnsubscribePath, which cmd/confab wires here).
const UnsubscribePath = "/notifications/unsubscribe"

// Server serves confab over HTTP.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	chat     *chat.Service
	auth     *auth.Service
	store    confab.Store
	broker   confab.Broker
	hub      *realtime.Hub
	gql      *handler.Server
	metrics  *metrics
	inflight *inflight
	handler  http.Handler
	http     *http.Server
	listener net.Listener

	metricsHTTP     *http.Server // nil unless cfg.MetricsAddr
	metricsListener net.Listener
}

// New builds a Server. It starts the realtime hub's keep-alive goroutine,
// which Close stops.
func New(cfg Config, chatSvc *chat.Service, authSvc *auth.Service, store confab.Store, broker confab.Broker, reg *prometheus.Registry, logger *slog.Logger) *Server {
	if cfg.Addr == "" {
		cfg.Addr = "localhost:8080"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.MaxRequestsPerAddress == 0 {
		cfg.MaxRequestsPerAddress = 64
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, logger: logger, chat: chatSvc, auth: authSvc, store: store, broker: broker,
		inflight: &inflight{max: cfg.MaxRequestsPerAddress, n: map[string]int{}}}
	s.metrics = newMetrics(reg, s)

	rt := cfg.Realtime
	rt.Logger = logger
	rt.AllowedOrigins = cfg.AllowedOrigins
	rt.Authenticate = func(_ context.Context, token string) (confab.Identity, error) { return authSvc.Verify(token) }
	rt.Connect = chatSvc.Connect
	rt.SharedFields = graph.SharedSubscriptions
	rt.OnShared = s.metrics.observeShared
	s.hub = realtime.NewHub(rt)
	authSvc.OnRevoke(s.hub.CloseUser)
	if s.cfg.Cognito == nil {
		h, err := cognito.New(cognito.Config{}, authSvc, logger)
		if err != nil {
			panic("server: the default Cognito configuration is the accounts service's own: " + err.Error())
		}
		s.cfg.Cognito = h
	}

	s.gql = graph.NewServerFor(&graph.Resolver{Chat: chatSvc, Admin: cfg.Admin}, cfg.GraphQL, logger)
	s.gql.AddTransport(gqlws.Transport{Hub: s.hub})
	s.gql.AddTransport(appsync.Transport{Hub: s.hub})
	s.gql.AddTransport(transport.POST{})
	s.gql.Use(s.metrics)

	s.handler = s.routes()
	for _, t := range cfg.Workspaces {
		t.inflight = s.inflight // one per-address limit for the process
	}
	if len(cfg.Workspaces) > 0 {
		s.handler = s.dispatch(s.handler)
	}
	return s
}

// dispatch sends /w/<id>/… to workspace id's server, with the prefix
// stripped, and everything else to next (the default workspace). An
// unknown workspace is 404 JSON.
func (s *Server) dispatch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, WorkspacePathPrefix)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		id, _, slash := strings.Cut(rest, "/")
		t := s.cfg.Workspaces[id]
		if t != nil && !slash && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, WorkspacePathPrefix+id+"/", http.StatusMovedPermanently) // the web client's base
			return
		}
		if t == nil || !slash {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
				"code": string(confab.CodeNotFound), "message": "No such workspace."}})
			return
		}
		http.StripPrefix(WorkspacePathPrefix+id, t.handler).ServeHTTP(w, r)
	})
}

// Handler returns the root HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Open starts listening and serving in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	s.listener = ln
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	if s.tls() {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("server: load TLS key pair: %w", err)
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, s.http.TLSConfig)
	}
	if s.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("server: listen for metrics: %w", err)
		}
		s.metricsListener = mln
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metricsHandler())
		s.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, ErrorLog: s.http.ErrorLog}
		go s.serve(s.metricsHTTP, mln)
	}
	go s.serve(s.http, ln)
	return nil
}

func (s *Server) serve(srv *http.Server, ln net.Listener) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.logger.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
	}
}

// MetricsURL returns the base URL of the metrics listener, or "" when
// /metrics is served on the main one.
func (s *Server) MetricsURL() string {
	if s.metricsListener == nil {
		return ""
	}
	return "http://" + s.metricsListener.Addr().String()
}

func (s *Server) tls() bool { return s.cfg.TLSCertFile != "" && s.cfg.TLSKeyFile != "" }

// URL returns the base URL the server listens on.
func (s *Server) URL() string {
	scheme := "http"
	if s.tls() {
		scheme = "https"
	}
	if s.listener == nil {
		return ""
	}
	return scheme + "://" + s.listener.Addr().String()
}

// Close shuts down gracefully: no new connections, every WebSocket closed
// with 1001 (clients reconnect and resume), in-flight HTTP requests
// finished, all within ctx.
func (s *Server) Close(ctx context.Context) error {
	for _, t := range s.cfg.Workspaces {
		t.hub.Shutdown(ctx.Done())
	}
	s.hub.Shutdown(ctx.Done())
	if s.http == nil {
		return nil
	}
	var merr error
	if s.metricsHTTP != nil {
		merr = s.metricsHTTP.Shutdown(ctx)
	}
	return errors.Join(s.http.Shutdown(ctx), merr)
}
