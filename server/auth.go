package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"

	"github.com/confab-chat/confab"
	"github.com/confab-chat/confab/auth"
)

// maxAuthBodyBytes bounds /auth request bodies.
const maxAuthBodyBytes = 64 << 10

// authWireCodes names each confab code the Cognito way on /auth
// (protocols.md §4.4). InvalidPassword is chosen per error below.
var authWireCodes = map[confab.Code]string{
	confab.CodeInvalid:         "InvalidParameter",
	confab.CodeUnauthenticated: "NotAuthorized",
	confab.CodeForbidden:       "NotAuthorized",
	confab.CodeNotFound:        "NotAuthorized",
	confab.CodeConflict:        "UsernameExists",
	confab.CodeLimited:         "TooManyRequests",
	confab.CodeUnavailable:     "ServiceUnavailable",
	confab.CodeInternal:        "InternalError",
}

// newAuthHandler serves the account endpoints (/auth/*) and token
// discovery (/.well-known/*).
func newAuthHandler(a *auth.Service, logger *slog.Logger) http.Handler {
	h := &authHandler{auth: a, logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/signup", h.signup)
	mux.HandleFunc("POST /auth/login", h.login)
	mux.HandleFunc("POST /auth/refresh", h.refresh)
	mux.HandleFunc("POST /auth/logout", h.logout)
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(a.JWKS())
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(a.OpenIDConfiguration())
	})
	return mux
}

type authHandler struct {
	auth   *auth.Service
	logger *slog.Logger
}

func (h *authHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	wire := authWireCodes[confab.ErrorCode(err)]
	if auth.IsPasswordPolicyError(err) {
		wire = "InvalidPassword"
	}
	if d := auth.RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d.Seconds()+0.999)))
	}
	writeError(w, r, h.logger, err, wire)
}

// decode reads a JSON body into v: application/json only, at most
// maxAuthBodyBytes, no unknown fields.
func (h *authHandler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		w.Header().Set("x-amzn-ErrorType", "InvalidParameter")
		writeJSON(w, http.StatusUnsupportedMediaType, errorJSON("InvalidParameter", "Content-Type must be application/json."))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAuthBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			w.Header().Set("x-amzn-ErrorType", "InvalidParameter")
			writeJSON(w, http.StatusRequestEntityTooLarge, errorJSON("InvalidParameter", "The request body is too large."))
			return false
		}
		h.fail(w, r, confab.Errorf(confab.CodeInvalid, "The request body must be a JSON object with the documented fields."))
		return false
	}
	if dec.More() {
		h.fail(w, r, confab.Errorf(confab.CodeInvalid, "The request body must be one JSON object."))
		return false
	}
	return true
}

func errorJSON(code, message string) errorBody {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	return b
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
	}
	if !h.decode(w, r, &in) {
		return
	}
	u, err := h.auth.SignUp(r.Context(), auth.SignUpInput{Email: in.Email, Password: in.Password, Username: in.Username, DisplayName: in.DisplayName}, clientAddr(r))
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
	login := in.Email
	if login == "" {
		login = in.Username
	}
	if login == "" {
		login = in.Login
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
	if !h.decode(w, r, &in) {
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
	if !h.decode(w, r, &in) {
		return
	}
	if err := h.auth.Logout(r.Context(), in.RefreshToken); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
