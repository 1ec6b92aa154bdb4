package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/internal/errortype"
	"github.com/gorilla/websocket"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	basePath := ""
	if s.cfg.Workspace != "" {
		basePath = WorkspacePathPrefix + s.cfg.Workspace
	}
	authHandler := newAuthHandler(s.auth, s.logger, basePath)
	mux.Handle("POST /auth/", authHandler)
	mux.Handle("GET /.well-known/", authHandler)
	// Amplify posts to its userPoolEndpoint exactly; the AWS SDKs and CLI
	// append "/" (protocols.md §4.2). Every method, so that each answer is
	// the API's JSON.
	for _, m := range []string{"POST", "GET", "PUT", "DELETE", "PATCH"} {
		mux.Handle(m+" /cognito", s.cfg.Cognito)
		mux.Handle(m+" /cognito/", s.cfg.Cognito)
	}

	mux.Handle("POST /graphql", s.requireToken(s.gql))
	mux.HandleFunc("GET /graphql", s.websocketOnly)
	mux.HandleFunc("GET /graphql/realtime", s.websocketOnly)

	switch {
	case s.cfg.Workspace != "": // the process's, at the root only
		for _, p := range []string{"GET /healthz", "GET /readyz", "GET /metrics"} {
			mux.Handle(p, http.NotFoundHandler())
		}
	case s.cfg.MetricsAddr == "":
		mux.HandleFunc("GET /healthz", s.healthz)
		mux.HandleFunc("GET /readyz", s.readyz)
		mux.Handle("GET /metrics", s.metricsHandler())
	default: // metrics on their own address; not the web client's page either
		mux.HandleFunc("GET /healthz", s.healthz)
		mux.HandleFunc("GET /readyz", s.readyz)
		mux.Handle("GET /metrics", http.NotFoundHandler())
	}
	mux.Handle("GET "+BlobPathPrefix, s.blobs())
	mux.Handle("PUT "+BlobPathPrefix, s.blobs())
	if s.cfg.Unsubscribe != nil {
		mux.Handle("GET "+UnsubscribePath, s.cfg.Unsubscribe)
	}
	mux.Handle("GET /", s.webHandler())

	return s.recoverPanics(s.logRequests(s.limitRequests(s.cors(mux))))
}

// websocketOnly hands WebSocket upgrades to the GraphQL transports
// (graphql-transport-ws on /graphql, AppSync on /graphql/realtime) and
// answers anything else with a clear 400.
func (s *Server) websocketOnly(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		writeGraphQLError(w, http.StatusBadRequest, "BadRequest", "Send queries with POST /graphql, or upgrade to a WebSocket for subscriptions.")
		return
	}
	s.gql.ServeHTTP(w, r)
}

// requireToken guards POST /graphql: content type, a valid token, then
// body size and shape are checked before any resolver runs. Failures
// answer the way AppSync does (protocols.md §3.2): 401 with
// x-amzn-ErrorType UnauthorizedException for token problems, 400 for
// bodies that are not a GraphQL request; never 5xx for bad input.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (mt != "application/json" && mt != "application/graphql-response+json") {
			refuseUnread(w)
			writeGraphQLError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Content-Type must be application/json.")
			return
		}
		// The token before the body: a stranger gets no server time to
		// trickle a body in.
		token := r.Header.Get("Authorization")
		if token == "" {
			refuseUnread(w)
			writeGraphQLError(w, http.StatusUnauthorized, "UnauthorizedException", "Valid authorization header not provided.")
			return
		}
		id, err := s.auth.Verify(token)
		if confab.ErrorCode(err) == confab.CodeUnavailable {
			// The revocation lookup could not be made: retryable, and
			// Amplify retries 503 (protocols.md §3.2).
			refuseUnread(w)
			writeGraphQLError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", confab.ErrorMessage(err))
			return
		}
		if err != nil {
			refuseUnread(w)
			writeGraphQLError(w, http.StatusUnauthorized, "UnauthorizedException", confab.ErrorMessage(err))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, "PayloadTooLarge", "The request body is too large.")
			return
		case err != nil:
			writeGraphQLError(w, http.StatusBadRequest, "MalformedHttpRequestException", "The request body could not be read.")
			return
		case len(bytes.TrimSpace(body)) == 0:
			writeGraphQLError(w, http.StatusBadRequest, "MalformedHttpRequestException", "Request body is empty.")
			return
		}
		if msg := notGraphQLRequest(body); msg != "" {
			writeBadInput(w, msg)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		ctx := confab.WithIdentity(r.Context(), id)
		setLogUser(ctx, id.UserID)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// notGraphQLRequest returns why body is not one GraphQL request (a JSON
// object with a query string, and variables and extensions objects if
// any), or "" when it is one. It is checked here so that gqlgen's decode
// error, which quotes the whole body, is never produced: bodies are never
// logged.
func notGraphQLRequest(body []byte) string {
	if bytes.TrimSpace(body)[0] == '[' {
		return "Batched operations (a JSON array) are not supported: send one operation per request."
	}
	var p graphql.RawParams
	if err := json.Unmarshal(body, &p); err != nil {
		return "The request body must be a JSON object with a query string, and variables and extensions objects if any."
	}
	return ""
}

// writeBadInput answers 400 with a GraphQL error of code BAD_USER_INPUT,
// in AppSync's HTTP error shape as writeGraphQLError.
func writeBadInput(w http.ResponseWriter, message string) {
	w.Header().Set("x-amzn-ErrorType", errortype.BadRequest)
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"errors": []map[string]any{{"errorType": errortype.BadRequest, "message": message,
			"extensions": map[string]string{"code": string(confab.CodeInvalid), "errorType": errortype.Of(confab.CodeInvalid)}}},
		"message": message,
	})
}

// writeGraphQLError writes an AppSync-shaped HTTP error:
// {"errors":[{"errorType","message"}],"message"} with x-amzn-ErrorType, so
// Amplify shows the message (protocols.md §3.2).
func writeGraphQLError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("x-amzn-ErrorType", errorType)
	writeJSON(w, status, map[string]any{
		"errors":  []map[string]string{{"errorType": errorType, "message": message}},
		"message": message,
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

// readyz reports whether the store (every workspace's) and the broker
// answer (the store also that it can write): 200, or 503 naming what failed and why. The reason
// is the error's text (e.g. "sqlite: ping: write: database or disk is
// full"): an operator's answer, holding no user data.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := map[string]any{"store": "ok", "broker": "ok"}
	reasons := map[string]string{}
	if err := s.store.Ping(ctx); err != nil {
		status["store"] = "unavailable"
		reasons["store"] = err.Error()
	}
	for id, t := range s.cfg.Workspaces { // each workspace's store namespace
		if err := t.store.Ping(ctx); err != nil {
			status["store"] = "unavailable"
			reasons["store "+id] = err.Error()
		}
	}
	if err := s.broker.Ping(ctx); err != nil {
		status["broker"] = "unavailable"
		reasons["broker"] = err.Error()
	}
	code := http.StatusOK
	if len(reasons) > 0 {
		code = http.StatusServiceUnavailable
		status["reasons"] = reasons
		s.logger.WarnContext(ctx, "not ready", "reasons", reasons)
	}
	writeJSON(w, code, status)
}

// cors answers preflights and marks responses for allowed origins
// (protocols.md §3.3).
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && s.originAllowed(origin) && !websocket.IsWebSocketUpgrade(r) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Methods", "POST, GET, PUT, OPTIONS")
			h.Set("Access-Control-Expose-Headers", "x-amzn-ErrorType, x-amzn-RequestId, Retry-After")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			h.Set("Access-Control-Max-Age", "600")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// recoverPanics turns a handler panic into a logged 500 (a broken
// invariant; the server keeps serving).
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logger.ErrorContext(r.Context(), "panic in handler", "panic", p, "stack", string(debug.Stack()))
				writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": string(confab.CodeInternal), "message": "Internal error."}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type logFieldsKey struct{}

// logFields collects what a request's log line reports. A WebSocket's
// operations run on other goroutines with the upgrade request's context,
// and may set them after the line is written: hence the mutex.
type logFields struct {
	mu        sync.Mutex
	userID    string // guarded by mu
	operation string // guarded by mu: GraphQL type and root field, e.g. "mutation sendMessage"
	code      string // guarded by mu: GraphQL outcome code (OK or the first error's code)
}

// attrs returns the fields as log attributes.
func (f *logFields) attrs() []slog.Attr {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := []slog.Attr{slog.String("user_id", f.userID)}
	if f.operation != "" {
		a = append(a, slog.String("operation", f.operation), slog.String("code", f.code))
	}
	return a
}

func setLogOperation(ctx context.Context, operation, code string) {
	if f, ok := ctx.Value(logFieldsKey{}).(*logFields); ok {
		f.mu.Lock()
		f.operation, f.code = operation, code
		f.mu.Unlock()
	}
}

func setLogUser(ctx context.Context, userID string) {
	if f, ok := ctx.Value(logFieldsKey{}).(*logFields); ok {
		f.mu.Lock()
		f.userID = userID
		f.mu.Unlock()
	}
}

// statusWriter records the status for the access log. It passes through
// Hijack (WebSocket upgrades) and Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets WebSocket upgrades through the logging wrapper.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// logRequests writes one structured line per HTTP request (a WebSocket
// when it is upgraded): request id, method, path, status,
// latency, user id, and for GraphQL the operation and its outcome code.
// Never bodies, tokens or passwords. It also feeds the HTTP metrics.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var idb [8]byte
		rand.Read(idb[:])
		reqID := hex.EncodeToString(idb[:])
		w.Header().Set("x-amzn-RequestId", reqID)
		fields := &logFields{}
		ctx := context.WithValue(r.Context(), logFieldsKey{}, fields)
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(http.ResponseWriter(sw), r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		took := time.Since(start)
		if sw.status != http.StatusSwitchingProtocols { // WebSockets count as connections
			s.metrics.observeHTTP(r.Pattern, sw.status, took) // the mux set r.Pattern
		}
		// Successful requests log at debug: at thousands of sends per
		// second an info line each would cost more than the send.
		level := slog.LevelDebug
		switch {
		case sw.status >= 500:
			level = slog.LevelError
		case sw.status >= 400:
			level = slog.LevelInfo
		}
		if !s.logger.Enabled(ctx, level) {
			return // the common case at info level: build no line
		}
		attrs := []slog.Attr{
			slog.String("request_id", reqID),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("latency", took),
		}
		s.logger.LogAttrs(ctx, level, "http request", append(attrs, fields.attrs()...)...)
	})
}
