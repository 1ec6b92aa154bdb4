package cognito

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

// Config configures the Handler. Zero values mean the defaults beside each
// field.
type Config struct {
	// UserPoolID and ClientID are the pool and its app client. They are
	// the accounts service's (auth.Config), and default to them; a
	// different value is a configuration error.
	UserPoolID, ClientID string
	// ClientSecret, when set, makes the app client one with a secret:
	// every request naming a user must carry SECRET_HASH (SecretHash) =
	// base64(HMAC-SHA256(secret, username + clientId)), and the refresh
	// and revoke operations ClientSecret. Amplify JS cannot send it
	// (protocols.md §4.3), so the default is none.
	ClientSecret string
	// AdminAccessKeyID and AdminSecretAccessKey are the key pair admin
	// operations must be signed with (SigV4). Empty: admin operations
	// are refused.
	AdminAccessKeyID, AdminSecretAccessKey string
	// MaxBodyBytes bounds a request body; larger is refused with
	// InvalidParameterException before parsing. Default 64 KiB.
	MaxBodyBytes int64
}

// Handler serves the Cognito Identity Provider API. It is safe for
// concurrent use.
type Handler struct {
	cfg      Config
	accounts *auth.Service
	logger   *slog.Logger
	ops      map[string]operation
}

// operation is one API operation: admin ones need a SigV4 signature.
type operation struct {
	admin bool
	run   func(ctx context.Context, r *request) (any, error)
}

// request is one decoded call.
type request struct {
	body       []byte
	clientAddr string
}

// decode reads the body into v. Fields v does not name are ignored, as
// clients send analytics and context data confab does not use.
func (r *request) decode(v any) error {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return errorf("SerializationException", "The request body is not valid JSON of the operation's input.")
	}
	return nil
}

// New returns a Handler over accounts.
func New(cfg Config, accounts *auth.Service, logger *slog.Logger) (*Handler, error) {
	if cfg.UserPoolID == "" {
		cfg.UserPoolID = accounts.UserPoolID()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = accounts.ClientID()
	}
	if cfg.UserPoolID != accounts.UserPoolID() {
		return nil, fmt.Errorf("cognito: user pool %q is not the accounts service's %q", cfg.UserPoolID, accounts.UserPoolID())
	}
	if cfg.ClientID != accounts.ClientID() {
		return nil, fmt.Errorf("cognito: client id %q is not the accounts service's %q", cfg.ClientID, accounts.ClientID())
	}
	if (cfg.AdminAccessKeyID == "") != (cfg.AdminSecretAccessKey == "") {
		return nil, errors.New("cognito: set both the admin access key id and its secret, or neither")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, accounts: accounts, logger: logger}
	h.ops = h.operations()
	return h, nil
}

// targetPrefix precedes the operation name in X-Amz-Target.
const targetPrefix = "AWSCognitoIdentityProviderService."

// ServeHTTP answers one call. Every answer is JSON.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.fail(w, r, errorf("UnknownOperationException", "Send operations with POST."))
		return
	}
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	op, known := h.ops[name]
	if !ok || !known {
		h.fail(w, r, errorf("UnknownOperationException", "Unknown operation."))
		return
	}
	if r.ContentLength > h.cfg.MaxBodyBytes {
		h.fail(w, r, errorf("InvalidParameterException", fmt.Sprintf("The request body is larger than %d bytes.", h.cfg.MaxBodyBytes)))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.fail(w, r, errorf("InvalidParameterException", fmt.Sprintf("The request body is larger than %d bytes.", h.cfg.MaxBodyBytes)))
		return
	case err != nil:
		h.fail(w, r, errorf("SerializationException", "The request body could not be read."))
		return
	}
	if op.admin {
		if err := h.verifySignature(r, body); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	out, err := op.run(r.Context(), &request{body: body, clientAddr: clientAddr(r)})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	h.write(w, http.StatusOK, out)
}

// fail answers err with its Cognito exception. Internal errors are logged
// with their chain and shown only as a generic message.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	name, status, message := exception(err)
	if status >= 500 {
		h.logger.ErrorContext(r.Context(), "cognito: internal error", "target", r.Header.Get("X-Amz-Target"), "err", err)
	}
	if d := confab.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(confab.RetryAfterSeconds(d)))
	}
	w.Header().Set("x-amzn-ErrorType", name)
	h.write(w, status, map[string]string{"__type": name, "message": message})
}

func (h *Handler) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// An encode error here means the client went away; nothing to report.
	_ = json.NewEncoder(w).Encode(v)
}

// clientAddr is the peer's IP address (forwarding headers are not trusted).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// checkClient refuses a ClientId that is not the pool's app client.
func (h *Handler) checkClient(clientID string) error {
	if clientID != h.cfg.ClientID {
		return errorf("ResourceNotFoundException", "User pool client "+clip(clientID)+" does not exist.")
	}
	return nil
}

// clip bounds an echoed client value.
func clip(s string) string {
	if len(s) > 128 {
		return s[:128]
	}
	return s
}

// checkSecretHash enforces SECRET_HASH when the client has a secret.
func (h *Handler) checkSecretHash(username, secretHash string) error {
	if h.cfg.ClientSecret == "" {
		return nil
	}
	m := hmac.New(sha256.New, []byte(h.cfg.ClientSecret))
	m.Write([]byte(username + h.cfg.ClientID))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if secretHash == "" || !hmac.Equal([]byte(secretHash), []byte(want)) {
		return errorf("NotAuthorizedException", "Client "+h.cfg.ClientID+" is configured with secret but SECRET_HASH was not received or is wrong.")
	}
	return nil
}

// checkClientSecret enforces ClientSecret (refresh and revoke operations)
// when the client has a secret.
func (h *Handler) checkClientSecret(secret string) error {
	if h.cfg.ClientSecret != "" && !hmac.Equal([]byte(secret), []byte(h.cfg.ClientSecret)) {
		return errorf("NotAuthorizedException", "Client "+h.cfg.ClientID+" is configured with secret but ClientSecret was not received or is wrong.")
	}
	return nil
}
