package disk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/confab-chat/confab"
)

// A presigned URL is PathPrefix+key with these query parameters:
//
//	PUT: exp (Unix seconds), size (bytes), sig
//	GET: exp, type (Content-Type served), name (file name served), sig
//
// sig is base64url(HMAC-SHA256(key, method, blob key, exp, content type,
// size or file name)), fields joined by newlines. A PUT's content type is
// its Content-Type header, so a client cannot store another type than the
// one it was granted; a GET's is the one it will be served with.

// PresignPut implements confab.BlobStore.
func (s *Store) PresignPut(ctx context.Context, key string, p PutParams) (*confab.PresignedRequest, error) {
	if _, err := s.path(key); err != nil {
		return nil, err
	}
	exp := strconv.FormatInt(p.Expires.Unix(), 10)
	size := strconv.FormatInt(p.Size, 10)
	q := url.Values{"exp": {exp}, "size": {size}, "sig": {s.sign(http.MethodPut, key, exp, p.ContentType, size)}}
	return &confab.PresignedRequest{
		Method:  http.MethodPut,
		URL:     s.url(key, q),
		Headers: http.Header{"Content-Type": {p.ContentType}},
		Expires: time.Unix(p.Expires.Unix(), 0).UTC(),
	}, nil
}

// PresignGet implements confab.BlobStore.
func (s *Store) PresignGet(ctx context.Context, key string, p GetParams) (*confab.PresignedRequest, error) {
	if _, err := s.path(key); err != nil {
		return nil, err
	}
	exp := strconv.FormatInt(p.Expires.Unix(), 10)
	q := url.Values{"exp": {exp}, "type": {p.ContentType}, "name": {p.FileName},
		"sig": {s.sign(http.MethodGet, key, exp, p.ContentType, p.FileName)}}
	return &confab.PresignedRequest{Method: http.MethodGet, URL: s.url(key, q), Expires: time.Unix(p.Expires.Unix(), 0).UTC()}, nil
}

// PutParams and GetParams are the root's, named here for brevity.
type (
	PutParams = confab.PutParams
	GetParams = confab.GetParams
)

func (s *Store) url(key string, q url.Values) string {
	return s.baseURL + PathPrefix + key + "?" + q.Encode()
}

// sign returns the signature of a request's fields.
func (s *Store) sign(fields ...string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.Join(fields, "\n")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verify reports whether sig is the signature of fields, in constant time.
func (s *Store) verify(sig string, fields ...string) bool {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	want, _ := base64.RawURLEncoding.DecodeString(s.sign(fields...))
	return hmac.Equal(got, want)
}

// Handler serves the URLs PresignPut and PresignGet mint, on PathPrefix.
// A request whose signature does not match its method, key and parameters,
// or that comes after its expiry, gets 403 and nothing is read or stored.
// A PUT must declare Content-Length equal to the signed size, and is
// stored only once every byte arrived (an aborted upload leaves nothing).
// Downloads are served as attachments with nosniff and a sandboxing CSP,
// because the bytes are users' and share the server's origin.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
		p, err := s.path(key)
		if !ok || err != nil {
			writeError(w, http.StatusNotFound, confab.CodeNotFound, "No such file.")
			return
		}
		switch r.Method {
		case http.MethodPut:
			s.servePut(w, r, key, p)
		case http.MethodGet, http.MethodHead:
			s.serveGet(w, r, key, p)
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			writeError(w, http.StatusMethodNotAllowed, confab.CodeInvalid, "Use GET or PUT.")
		}
	})
}

func (s *Store) servePut(w http.ResponseWriter, r *http.Request, key, path string) {
	q := r.URL.Query()
	exp, size := q.Get("exp"), q.Get("size")
	if !s.verify(q.Get("sig"), http.MethodPut, key, exp, r.Header.Get("Content-Type"), size) || s.expired(exp) {
		refuse(w)
		return
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || r.ContentLength != n {
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusBadRequest, confab.CodeInvalid, "Content-Length must be the size the upload was created with.")
		return
	}
	if err := s.write(path, r.Body, n); err != nil {
		if confab.ErrorCode(err) == confab.CodeInvalid {
			writeError(w, http.StatusBadRequest, confab.CodeInvalid, "The body is not the size the upload was created with, or did not arrive whole.")
			return
		}
		writeError(w, http.StatusInternalServerError, confab.CodeInternal, "Internal error.")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Store) serveGet(w http.ResponseWriter, r *http.Request, key, path string) {
	q := r.URL.Query()
	exp, ctype, name := q.Get("exp"), q.Get("type"), q.Get("name")
	if !s.verify(q.Get("sig"), http.MethodGet, key, exp, ctype, name) || s.expired(exp) {
		refuse(w)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		writeError(w, http.StatusNotFound, confab.CodeNotFound, "No such file.")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, confab.CodeNotFound, "No such file.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age="+strconv.FormatInt(max(0, s.secondsLeft(exp)), 10))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// expired reports whether the Unix time exp has passed (or is not a
// number).
func (s *Store) expired(exp string) bool {
	return s.secondsLeft(exp) < 0
}

func (s *Store) secondsLeft(exp string) int64 {
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return -1
	}
	return t - s.now().Unix()
}

// refuse answers a forged or expired URL, without reading the body.
func refuse(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusForbidden, confab.CodeForbidden, "This link is invalid or has expired.")
}

// writeError writes the REST error shape {"error":{"code","message"}}.
func writeError(w http.ResponseWriter, status int, code confab.Code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body := map[string]map[string]string{"error": {"code": string(code), "message": message}}
	// An encode error means the client went away; nothing to report.
	_ = json.NewEncoder(w).Encode(body)
}
