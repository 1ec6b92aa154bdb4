package appsync

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/websocket"
)

// maxHeaderBytes bounds the decoded auth header object (bytes); a larger
// one is a malformed header (BadRequestException).
const maxHeaderBytes = 16 << 10

// handshakeHeader decodes the auth header object of an upgrade request
// (protocols.md §1.2): from a "header-<base64url>" subprotocol (Amplify ≥
// 6.6), else from the raw ?header= query parameter (older Amplify,
// aws-appsync). Both base64 alphabets are accepted, padded or not, and the
// query value percent-escaped or raw. It returns nil and no error when
// there is no header (the caller is then unauthenticated), and an error
// when a header is present but is not base64 of a JSON object.
func handshakeHeader(r *http.Request) (map[string]any, error) {
	for _, p := range websocket.Subprotocols(r) {
		if rest, ok := strings.CutPrefix(p, "header-"); ok {
			return decodeHeader(rest)
		}
	}
	// The raw query, not url.Values: ParseQuery turns the '+' of standard
	// base64 into a space.
	raw := ""
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if v, ok := strings.CutPrefix(kv, "header="); ok {
			raw = v
		}
	}
	if raw == "" {
		return nil, nil
	}
	// PathUnescape decodes %XX and leaves '+' alone (QueryUnescape would
	// not).
	unescaped, err := url.PathUnescape(raw)
	if err != nil {
		return nil, errors.New("appsync: header parameter is not validly escaped")
	}
	return decodeHeader(unescaped)
}

// decodeHeader decodes base64 (either alphabet, padding optional) of a JSON
// object.
func decodeHeader(s string) (map[string]any, error) {
	if len(s) > maxHeaderBytes*4/3+4 {
		return nil, errors.New("appsync: header too large")
	}
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("appsync: header is not base64")
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil || h == nil {
		return nil, errors.New("appsync: header is not a JSON object")
	}
	return h, nil
}

// tokenOf returns the token in the Authorization value of an auth header
// object (key in any case; "Bearer " prefix, which AppSync clients do not
// send but hand-written ones might, removed), or "" when there is none.
func tokenOf(h map[string]any) string {
	for k, v := range h {
		if s, ok := v.(string); ok && strings.EqualFold(k, "authorization") {
			if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
				s = strings.TrimSpace(s[7:])
			}
			return s
		}
	}
	return ""
}
