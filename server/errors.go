package server

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/confab-chat/confab"
)

// restStatus maps error codes to the HTTP status of REST responses
// (STYLE.md §2.3). Deterministic failures are never 5xx: AppSync and Amplify
// clients retry 5xx, even mutations (protocols.md §3.2).
var restStatus = map[confab.Code]int{
	confab.CodeInvalid:         http.StatusBadRequest,
	confab.CodeUnauthenticated: http.StatusUnauthorized,
	confab.CodeForbidden:       http.StatusForbidden,
	confab.CodeNotFound:        http.StatusNotFound,
	confab.CodeConflict:        http.StatusConflict,
	confab.CodeLimited:         http.StatusTooManyRequests,
	confab.CodeUnavailable:     http.StatusServiceUnavailable,
	confab.CodeInternal:        http.StatusInternalServerError,
}

// errorBody is the JSON shape of every REST error: {"error":{"code","message"}}.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError is the one place a REST error becomes a response. wireCode is
// the code clients see (for /auth these are Cognito-like names such as
// NotAuthorized); when empty the confab code is used. Internal errors are
// logged with their full chain and shown only as "Internal error.".
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error, wireCode string) {
	code := confab.ErrorCode(err)
	status, ok := restStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == confab.CodeInternal && logger != nil {
		logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body errorBody
	body.Error.Code = wireCode
	if body.Error.Code == "" {
		body.Error.Code = string(code)
	}
	body.Error.Message = confab.ErrorMessage(err)
	w.Header().Set("x-amzn-ErrorType", body.Error.Code)
	writeJSON(w, status, body)
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// An encode error here means the client went away; nothing to report.
	_ = json.NewEncoder(w).Encode(v)
}
