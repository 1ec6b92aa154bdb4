package server

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

// maxAuthBodyBytes bounds /auth request bodies; a larger one is answered
// 413 InvalidParameter before it is parsed.
const maxAuthBodyBytes = 64 << 10

// authErrKind is what decides an /auth error's wire code: its confab code,
// and for CodeInvalid whether the password policy refused it.
type authErrKind struct {
	code           confab.Code
	passwordPolicy bool
}

// authWireCodes names each error the Cognito way on /auth (protocols.md
// §4.4, without the "Exception" suffix). Unauthenticated covers wrong
// passwords and unknown users alike (NotAuthorized, so accounts cannot be
// enumerated) and bad refresh tokens. Sign-up turns a taken email or
// username into InvalidParameter first (errSignupRefused). Codes absent
// here (there are none today) would go out as the confab code.
var authWireCodes = map[authErrKind]string{
	{code: confab.CodeInvalid, passwordPolicy: true}: "InvalidPassword",
	{code: confab.CodeInvalid}:                       "InvalidParameter",
	{code: confab.CodeUnauthenticated}:               "NotAuthorized",
	{code: confab.CodeForbidden}:                     "NotAuthorized",
	{code: confab.CodeNotFound}:                      "NotAuthorized",
	{code: confab.CodeConflict}:                      "UsernameExists",
	{code: confab.CodeLimited}:                       "TooManyRequests",
	{code: confab.CodeUnavailable}:                   "ServiceUnavailable",
	{code: confab.CodeInternal}:                      "InternalError",
}

// authWireCode returns the wire code of err on /auth.
func authWireCode(err error) string {
	return authWireCodes[authErrKind{code: confab.ErrorCode(err), passwordPolicy: auth.IsPasswordPolicyError(err)}]
}

// newAuthHandler serves the account endpoints (/auth/*) and token
// discovery (/.well-known/*). Every answer of these routes is JSON (other
// paths and methods get the mux's plain 404 and 405); errors have the shape
// {"error":{"code","message"}} with a Cognito-like code, also sent as
// x-amzn-ErrorType, and 429s carry Retry-After. basePath is the path the
// routes are served under ("" at the root, /w/<id> for a workspace), so
// that discovery names the workspace's endpoints.
func newAuthHandler(a *auth.Service, logger *slog.Logger, basePath string) http.Handler {
	h := &authHandler{auth: a, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/signup", h.signup)
	mux.HandleFunc("POST /auth/login", h.login)
	mux.HandleFunc("POST /auth/refresh", h.refresh)
	mux.HandleFunc("POST /auth/logout", h.logout)
	mux.HandleFunc("GET /.well-known/jwks.json", discovery(a.JWKS()))
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		discovery(a.OpenIDConfiguration(scheme+"://"+r.Host+basePath))(w, r)
	})
	return mux
}

// discovery serves a fixed JSON document that verifiers may cache.
func discovery(doc []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		// A write error means the client went away; nothing to report.
		_, _ = w.Write(doc)
	}
}

type authHandler struct {
	auth   *auth.Service
	logger *slog.Logger
}

// fail answers err through writeError with its /auth wire code.
func (h *authHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if d := confab.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(confab.RetryAfterSeconds(d)))
	}
	writeError(w, r, h.logger, err, authWireCode(err))
}

// failStatus answers a request refused before it reached the service with
// a status writeError has no code for (413, 415), in the same body shape.
func failStatus(w http.ResponseWriter, status int, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = "InvalidParameter", message
	w.Header().Set("x-amzn-ErrorType", b.Error.Code)
	writeJSON(w, status, b)
}

// errSignupRefused answers a sign-up whose email or username is taken with
// the status and code of every other refusal of the details (400
// InvalidParameter), not 409, and without saying which of the two is
// taken or that an account exists: an e-mail address must not be checkable
// against the accounts by a status code. What remains (a well-formed
// sign-up is refused) is bounded by the per-address sign-up limit.
var errSignupRefused = confab.Errorf(confab.CodeInvalid, "An account cannot be created with this email address or username. Choose another, or sign in if you already have an account.")

var errBadBody = confab.Errorf(confab.CodeInvalid, "The request body must be one JSON object with the documented fields.")

// decode reads a JSON body into v: application/json only (else 415), at
// most maxAuthBodyBytes (else 413), exactly one object with no unknown
// fields and the right types (else 400). It reports whether v was filled;
// when not, the answer has been written.
func (h *authHandler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		failStatus(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json.")
		return false
	}
	tooLarge := func() bool {
		failStatus(w, http.StatusRequestEntityTooLarge, "The request body is larger than 64 KiB.")
		return false
	}
	if r.ContentLength > maxAuthBodyBytes {
		return tooLarge()
	}
	var mbe *http.MaxBytesError
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAuthBodyBytes))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		// Nothing may follow the object but white space (read to the end,
		// so a padded body still meets the size limit).
		if _, err = dec.Token(); err == io.EOF {
			return true
		} else if err == nil {
			err = errors.New("data after the object")
		}
	}
	if errors.As(err, &mbe) {
		return tooLarge()
	}
	h.fail(w, r, errBadBody)
	return false
}

// required answers 400 InvalidParameter when value is empty.
func (h *authHandler) required(w http.ResponseWriter, r *http.Request, name, value string) bool {
	if value != "" {
		return true
	}
	h.fail(w, r, confab.Errorf(confab.CodeInvalid, "%s is required.", name))
	return false
}

// clientAddr is the peer's IP address (proxies' forwarding headers are not
// trusted).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *authHandler) signup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email       string `json:"email"`
		Password    string `json:"password"`
		Username    string `json:"username"`
		DisplayName string `json:"displayName"`
		Invitation  string `json:"invitation"` // the token of an invitation link (sign-up policy "invitation")
	}
	if !h.decode(w, r, &in) {
		return
	}
	u, err := h.auth.SignUp(r.Context(), auth.SignUpInput{Email: in.Email, Password: in.Password, Username: in.Username, DisplayName: in.DisplayName, Invitation: in.Invitation}, clientAddr(r))
	if confab.ErrorCode(err) == confab.CodeConflict {
		err = errSignupRefused
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"userId": u.UserID, "username": u.Username, "email": u.Email, "userConfirmed": true})
}

func (h *authHandler) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Username string `json:"username"`
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if !h.decode(w, r, &in) {
		return
	}
	login := cmp.Or(in.Email, in.Username, in.Login)
	if !h.required(w, r, "email, username or login", login) || !h.required(w, r, "password", in.Password) {
		return
	}
	tokens, err := h.auth.Login(r.Context(), login, in.Password, clientAddr(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokens)
}

func (h *authHandler) refresh(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	if !h.decode(w, r, &in) || !h.required(w, r, "refreshToken", in.RefreshToken) {
		return
	}
	tokens, err := h.auth.Refresh(r.Context(), in.RefreshToken, clientAddr(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokens)
}

func (h *authHandler) logout(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	if !h.decode(w, r, &in) || !h.required(w, r, "refreshToken", in.RefreshToken) {
		return
	}
	if err := h.auth.Logout(r.Context(), in.RefreshToken); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
