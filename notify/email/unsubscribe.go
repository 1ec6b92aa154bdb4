package email

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/confab-chat/confab"
)

// UnsubscribePath is where the unsubscribe link points (GET
// ?u=<user id>&t=<token>; server.UnsubscribePath serves it).
const UnsubscribePath = "/notifications/unsubscribe"

// minKeyBytes is the shortest signing key accepted.
const minKeyBytes = 16

// tokenPurpose separates these MACs from any other use of the key.
const tokenPurpose = "confab email unsubscribe\x00"

// Token is the unsubscribe token of userID: HMAC-SHA256 under key,
// base64url. It does not expire: an old digest's link keeps working.
func Token(key []byte, userID string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(tokenPurpose))
	mac.Write([]byte(userID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// UnsubscribeURL is the signed unsubscribe link of userID under base (the
// public URL, without a trailing slash).
func UnsubscribeURL(base string, key []byte, userID string) string {
	return base + UnsubscribePath + "?" + url.Values{"u": {userID}, "t": {Token(key, userID)}}.Encode()
}

// signingKey calls key and checks the length of what it returns.
func signingKey(key func() ([]byte, error)) ([]byte, error) {
	k, err := key()
	if err != nil {
		return nil, fmt.Errorf("email: unsubscribe key: %w", err)
	}
	if len(k) < minKeyBytes {
		return nil, fmt.Errorf("email: the unsubscribe key is shorter than %d bytes", minKeyBytes)
	}
	return k, nil
}

// validToken checks token against userID in constant time.
func validToken(key []byte, userID, token string) bool {
	return hmac.Equal([]byte(token), []byte(Token(key, userID)))
}

// UnsubscribeStore is what the unsubscribe handler reads and writes.
type UnsubscribeStore interface {
	GetUser(ctx context.Context, userID string) (*confab.User, error)
	GetNotificationSettings(ctx context.Context, userIDs []string) (map[string]*confab.NotificationSettings, error)
	PutNotificationSettings(ctx context.Context, userID string, s *confab.NotificationSettings) error
}

// UnsubscribeHandler serves UnsubscribePath: a valid link turns the user's
// e-mail digests off (NotificationSettings.EmailDigestsOff) and answers a
// small page; a missing, forged or altered token is 400 and changes
// nothing. key must be the Channel's Config.Key.
func UnsubscribeHandler(store UnsubscribeStore, key func() ([]byte, error), logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, err := signingKey(key)
		if err != nil {
			logger.ErrorContext(r.Context(), "unsubscribe refused", "err", err)
			page(w, http.StatusInternalServerError, "Something went wrong. Please try the link again later.")
			return
		}
		userID, token := r.URL.Query().Get("u"), r.URL.Query().Get("t")
		if !confab.ValidID(userID) || !validToken(k, userID, token) {
			page(w, http.StatusBadRequest, "This unsubscribe link is not valid. Copy the whole link from the e-mail, or turn e-mail digests off in the notification settings.")
			return
		}
		ctx := r.Context()
		if _, err := store.GetUser(ctx, userID); confab.ErrorCode(err) == confab.CodeNotFound {
			page(w, http.StatusNotFound, "This account no longer exists; it gets no e-mail.")
			return
		} else if err != nil {
			logger.WarnContext(ctx, "unsubscribe failed", "user_id", userID, "err", err)
			page(w, http.StatusInternalServerError, "Something went wrong. Please try the link again later.")
			return
		}
		var all map[string]*confab.NotificationSettings
		all, err = store.GetNotificationSettings(ctx, []string{userID})
		if err == nil {
			s := all[userID]
			if s == nil {
				s = &confab.NotificationSettings{}
			}
			s.EmailDigestsOff = true
			err = store.PutNotificationSettings(ctx, userID, s)
		}
		if err != nil {
			logger.WarnContext(ctx, "unsubscribe failed", "user_id", userID, "err", err)
			page(w, http.StatusInternalServerError, "Something went wrong. Please try the link again later.")
			return
		}
		logger.InfoContext(ctx, "e-mail digests turned off by the unsubscribe link", "user_id", userID)
		page(w, http.StatusOK, "You will get no more e-mail digests. You can turn them back on in the notification settings.")
	})
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>E-mail digests</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem">
<h1>E-mail digests</h1><p>{{.}}</p></body></html>
`))

func page(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token is in the URL
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, text)
}
